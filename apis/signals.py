"""Bump the catalog revision on any catalog write, so every gateway process reloads its snapshot."""

import time

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from apis.models import (
    Api,
    CatalogRevision,
    Certificate,
    Gateway,
    GatewayHostname,
    GlobalPolicy,
    NamedValue,
    PolicyFragment,
    Product,
    Subscription,
)

# Named values and fragments are part of the catalog: gateways receive the policies that use
# them resolved, so a change must reach every node like any other catalog write.
_CATALOG_MODELS = (
    Api,
    Product,
    Subscription,
    Gateway,
    GlobalPolicy,
    NamedValue,
    PolicyFragment,
    Certificate,
    GatewayHostname,
)


def bump_catalog_revision() -> None:
    """Set the revision to the current time in microseconds: a value never seen before, even
    after the table is emptied (gateways only compare revisions for equality)."""
    revision = time.time_ns() // 1000
    updated = CatalogRevision.objects.filter(pk=1).update(
        revision=revision, changed_at=timezone.now()
    )
    if not updated:
        CatalogRevision.objects.update_or_create(pk=1, defaults={"revision": revision})


@receiver(post_save)
@receiver(post_delete)
def _catalog_row_changed(sender, **kwargs) -> None:
    if sender in _CATALOG_MODELS and not kwargs.get("raw"):
        bump_catalog_revision()


@receiver(m2m_changed)
def _catalog_link_changed(sender, action: str, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear") and sender in (
        Api.gateways.through,
        Product.apis.through,
    ):
        bump_catalog_revision()
