"""Telemetry's models move here from the catalog app: state only, the tables and rows stay."""

from django.db import migrations, models


def move_content_types(apps, schema_editor):
    """Let permissions and admin history follow the models to their new app label."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ("connectionlog", "usageminute", "refusalminute"):
        if not ContentType.objects.filter(app_label="telemetry", model=model).exists():
            ContentType.objects.filter(app_label="apis", model=model).update(app_label="telemetry")


def restore_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ("connectionlog", "usageminute", "refusalminute"):
        if not ContentType.objects.filter(app_label="apis", model=model).exists():
            ContentType.objects.filter(app_label="telemetry", model=model).update(app_label="apis")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('apis', '0003_telemetry'),  # creates the tables this app takes over
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='ConnectionLog',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('correlation_id', models.CharField(db_index=True, max_length=32)),
                        ('gateway', models.CharField(max_length=80)),
                        ('api_id', models.BigIntegerField(blank=True, null=True)),
                        ('api_name', models.CharField(blank=True, max_length=80)),
                        ('product_id', models.BigIntegerField(blank=True, null=True)),
                        ('product_name', models.CharField(blank=True, max_length=80)),
                        ('subscription_id', models.BigIntegerField(blank=True, null=True)),
                        ('subscription_name', models.CharField(blank=True, max_length=100)),
                        ('client_ip', models.CharField(blank=True, max_length=45)),
                        ('user_agent', models.CharField(blank=True, max_length=300)),
                        ('path', models.CharField(blank=True, help_text='Request path, no query.', max_length=300)),
                        ('started_at', models.DateTimeField()),
                        ('state', models.CharField(choices=[('accepted', 'Accepted'), ('refused', 'Refused'), ('backend_failed', 'Backend failed'), ('error', 'Gateway error')], max_length=16)),
                        ('status', models.PositiveSmallIntegerField(help_text="101 when accepted, else the refusal's.")),
                        ('reason', models.CharField(blank=True, help_text='Why it was refused.', max_length=300)),
                        ('backend_connect_ms', models.FloatField(blank=True, null=True)),
                        ('handshake_ms', models.FloatField(blank=True, null=True)),
                        ('ended_at', models.DateTimeField(blank=True, null=True)),
                        ('duration_ms', models.FloatField(blank=True, null=True)),
                        ('close_code', models.PositiveIntegerField(blank=True, null=True)),
                        ('close_reason', models.CharField(blank=True, max_length=200)),
                        ('closed_by', models.CharField(blank=True, max_length=10)),
                        ('messages_up', models.BigIntegerField(default=0)),
                        ('bytes_up', models.BigIntegerField(default=0)),
                        ('messages_down', models.BigIntegerField(default=0)),
                        ('bytes_down', models.BigIntegerField(default=0)),
                        ('error', models.TextField(blank=True)),
                    ],
                    options={
                        'db_table': 'apis_connectionlog',
                        'ordering': ['-started_at', '-id'],
                        'indexes': [models.Index(fields=['api_id', 'started_at'], name='connlog_api_started'), models.Index(fields=['subscription_id', 'started_at'], name='connlog_sub_started'), models.Index(fields=['started_at'], name='connlog_started')],
                    },
                ),
                migrations.CreateModel(
                    name='RefusalMinute',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('minute', models.DateTimeField()),
                        ('gateway', models.CharField(max_length=80)),
                        ('api_id', models.BigIntegerField(default=0)),
                        ('subscription_id', models.BigIntegerField(default=0)),
                        ('state', models.CharField(max_length=16)),
                        ('status', models.PositiveSmallIntegerField()),
                        ('count', models.PositiveIntegerField(default=0)),
                    ],
                    options={
                        'db_table': 'apis_refusalminute',
                        'ordering': ['minute'],
                        'indexes': [models.Index(fields=['api_id', 'minute'], name='refusal_api_minute')],
                        'constraints': [models.UniqueConstraint(fields=('minute', 'gateway', 'api_id', 'subscription_id', 'state', 'status'), name='refusal_minute_key')],
                    },
                ),
                migrations.CreateModel(
                    name='UsageMinute',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('minute', models.DateTimeField()),
                        ('gateway', models.CharField(max_length=80)),
                        ('api_id', models.BigIntegerField(default=0)),
                        ('subscription_id', models.BigIntegerField(default=0)),
                        ('accepted', models.PositiveIntegerField(default=0)),
                        ('refused', models.PositiveIntegerField(default=0)),
                        ('backend_failed', models.PositiveIntegerField(default=0)),
                        ('active_max', models.PositiveIntegerField(default=0, help_text='Most open at one sample.')),
                        ('messages_up', models.BigIntegerField(default=0)),
                        ('bytes_up', models.BigIntegerField(default=0)),
                        ('messages_down', models.BigIntegerField(default=0)),
                        ('bytes_down', models.BigIntegerField(default=0)),
                        ('handshake_ms_sum', models.FloatField(default=0)),
                        ('handshake_count', models.PositiveIntegerField(default=0)),
                    ],
                    options={
                        'db_table': 'apis_usageminute',
                        'ordering': ['minute'],
                        'indexes': [models.Index(fields=['api_id', 'minute'], name='usage_api_minute'), models.Index(fields=['subscription_id', 'minute'], name='usage_sub_minute')],
                        'constraints': [models.UniqueConstraint(fields=('minute', 'gateway', 'api_id', 'subscription_id'), name='usage_minute_key')],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_types, restore_content_types),
    ]
