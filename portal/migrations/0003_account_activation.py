"""Activation links work once: a marker per account whose link was used (issue 23, item 8)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def mark_existing_accounts(apps, schema_editor):
    """Accounts that are active or have signed in are past activation: their links stay dead."""
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    Activation = apps.get_model("portal", "AccountActivation")
    done = User.objects.filter(models.Q(is_active=True) | models.Q(last_login__isnull=False))
    Activation.objects.bulk_create(
        [Activation(user_id=pk) for pk in done.values_list("pk", flat=True).iterator()],
        batch_size=1000,
    )


class Migration(migrations.Migration):

    dependencies = [
        ('portal', '0002_access_tokens_moved_to_apis'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AccountActivation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('activated_at', models.DateTimeField(auto_now_add=True)),
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='portal_activation', to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.RunPython(mark_existing_accounts, migrations.RunPython.noop),
    ]
