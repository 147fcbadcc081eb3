"""Store gateway node tokens only as hashes, give each gateway a key-hash secret, add nodes.

Existing clear-text tokens are hashed in place, so nodes already running with them keep working.
"""

import hashlib
import secrets

import django.db.models.deletion
from django.db import migrations, models

import apis.models


def hash_existing(apps, schema_editor):
    Gateway = apps.get_model("apis", "Gateway")
    for gateway in Gateway.objects.all():
        gateway.primary_token_hash = hashlib.sha256(gateway.primary_token.encode()).hexdigest()
        gateway.secondary_token_hash = hashlib.sha256(gateway.secondary_token.encode()).hexdigest()
        gateway.key_hash_secret = secrets.token_urlsafe(32)
        gateway.save(update_fields=["primary_token_hash", "secondary_token_hash", "key_hash_secret"])


def cannot_unhash(apps, schema_editor):
    # Going back gives every gateway new random clear tokens: the old ones cannot be recovered.
    Gateway = apps.get_model("apis", "Gateway")
    for gateway in Gateway.objects.all():
        gateway.primary_token = secrets.token_urlsafe(32)
        gateway.secondary_token = secrets.token_urlsafe(32)
        gateway.save(update_fields=["primary_token", "secondary_token"])


class Migration(migrations.Migration):
    dependencies = [("apis", "0005_api_asyncapi_contract")]

    operations = [
        migrations.AddField(
            model_name="gateway",
            name="primary_token_hash",
            field=models.CharField(max_length=64, null=True, editable=False),
        ),
        migrations.AddField(
            model_name="gateway",
            name="secondary_token_hash",
            field=models.CharField(max_length=64, null=True, editable=False),
        ),
        migrations.AddField(
            model_name="gateway",
            name="key_hash_secret",
            field=models.CharField(
                default=apis.models.generate_secret, editable=False, max_length=64
            ),
        ),
        migrations.RunPython(hash_existing, cannot_unhash),
        migrations.AlterField(
            model_name="gateway",
            name="primary_token_hash",
            field=models.CharField(
                default=apis.models.unusable_token_hash, editable=False, max_length=64, unique=True
            ),
        ),
        migrations.AlterField(
            model_name="gateway",
            name="secondary_token_hash",
            field=models.CharField(
                default=apis.models.unusable_token_hash, editable=False, max_length=64, unique=True
            ),
        ),
        migrations.RemoveField(model_name="gateway", name="primary_token"),
        migrations.RemoveField(model_name="gateway", name="secondary_token"),
        migrations.CreateModel(
            name="GatewayNode",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "node_id",
                    models.CharField(help_text="PORTICO_NODE_ID, or host:port.", max_length=100),
                ),
                (
                    "worker",
                    models.CharField(help_text="The worker process (its pid).", max_length=40),
                ),
                ("hostname", models.CharField(blank=True, max_length=255)),
                ("version", models.CharField(blank=True, max_length=50)),
                (
                    "revision",
                    models.PositiveBigIntegerField(
                        default=0, help_text="Configuration it serves."
                    ),
                ),
                (
                    "workers",
                    models.PositiveIntegerField(
                        default=1, help_text="Worker processes of the node."
                    ),
                ),
                ("open_connections", models.PositiveIntegerField(default=0)),
                ("last_error", models.CharField(blank=True, max_length=500)),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("last_seen_at", models.DateTimeField()),
                (
                    "gateway",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="nodes",
                        to="apis.gateway",
                    ),
                ),
            ],
            options={
                "ordering": ["node_id", "worker"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("gateway", "node_id", "worker"), name="gateway_node_worker"
                    )
                ],
            },
        ),
    ]
