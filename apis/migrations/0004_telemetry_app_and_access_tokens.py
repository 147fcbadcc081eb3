"""Telemetry's models leave for the telemetry app and access tokens arrive from the portal app:
state only, every table and row stays where it is."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    """Let permissions and admin history follow the token model to its new app label."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="apis", model="personalaccesstoken").exists():
        ContentType.objects.filter(app_label="portal", model="personalaccesstoken").update(
            app_label="apis"
        )


def restore_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="portal", model="personalaccesstoken").exists():
        ContentType.objects.filter(app_label="apis", model="personalaccesstoken").update(
            app_label="portal"
        )


class Migration(migrations.Migration):

    dependencies = [
        ('apis', '0003_telemetry'),
        ('portal', '0001_settings_and_access_tokens'),  # creates the token table taken over here
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name='ConnectionLog'),
                migrations.DeleteModel(name='RefusalMinute'),
                migrations.DeleteModel(name='UsageMinute'),
                migrations.CreateModel(
                    name='PersonalAccessToken',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100)),
                        ('token_prefix', models.CharField(help_text='Shown to tell tokens apart.', max_length=16)),
                        ('token_hash', models.CharField(editable=False, max_length=64, unique=True)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('expires_at', models.DateTimeField(blank=True, null=True)),
                        ('last_used_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('revoked_at', models.DateTimeField(blank=True, null=True)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='access_tokens', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'portal_personalaccesstoken',
                        'ordering': ['-created_at'],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_type, restore_content_type),
    ]
