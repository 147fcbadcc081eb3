"""Personal access tokens now belong to the catalog app (apis): state only, the table stays."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('portal', '0001_settings_and_access_tokens'),
        ('apis', '0004_telemetry_app_and_access_tokens'),  # takes the model over first
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name='PersonalAccessToken')],
        ),
    ]
