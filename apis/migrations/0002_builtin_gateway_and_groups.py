"""Create the built-in managed gateway, the visibility groups and the catalog revision row."""

import secrets

from django.db import migrations

GROUPS = ("Administrators", "Developers", "Guests", "Publishers")


def create(apps, schema_editor):
    Gateway = apps.get_model("apis", "Gateway")
    Group = apps.get_model("auth", "Group")
    CatalogRevision = apps.get_model("apis", "CatalogRevision")
    Gateway.objects.get_or_create(
        name="managed",
        defaults={
            "kind": "managed",
            "description": "Built-in managed gateway",
            "location_name": "Built-in",
            "primary_token": secrets.token_urlsafe(32),
            "secondary_token": secrets.token_urlsafe(32),
        },
    )
    for name in GROUPS:
        Group.objects.get_or_create(name=name)
    CatalogRevision.objects.get_or_create(pk=1, defaults={"revision": 1})


def remove(apps, schema_editor):
    apps.get_model("apis", "Gateway").objects.filter(name="managed").delete()


class Migration(migrations.Migration):
    dependencies = [("apis", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create, remove)]
