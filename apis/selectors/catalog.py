"""Reads of APIs, products and gateways: publisher lists, the management API's querysets and
what the developer portal shows each visitor."""

from django.db.models import Q, QuerySet

from apis.models import Api, Gateway, Product


def api_list(*, search: str = "") -> QuerySet[Api]:
    qs = Api.objects.prefetch_related("products", "gateways")
    if search:
        qs = qs.filter(display_name__icontains=search) | qs.filter(url_suffix__icontains=search)
    return qs.order_by("display_name")


def product_list(*, search: str = "") -> QuerySet[Product]:
    qs = Product.objects.prefetch_related("apis", "groups")
    if search:
        qs = qs.filter(display_name__icontains=search)
    return qs.order_by("display_name")


def gateway_list() -> QuerySet[Gateway]:
    return Gateway.objects.prefetch_related("apis", "hostnames__certificate").order_by("name")


def management_apis() -> QuerySet[Api]:
    return Api.objects.prefetch_related("products", "gateways").order_by("name")


def management_products() -> QuerySet[Product]:
    return Product.objects.prefetch_related("apis").order_by("name")


def management_gateways() -> QuerySet[Gateway]:
    return Gateway.objects.prefetch_related("apis", "hostnames__certificate").order_by("name")


PORTAL_GUESTS_GROUP = "Guests"
PORTAL_DEVELOPERS_GROUP = "Developers"
PORTAL_ADMINISTRATORS_GROUP = "Administrators"


def _sees_every_product(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_staff or user.groups.filter(name=PORTAL_ADMINISTRATORS_GROUP).exists()


def portal_products(user, *, search: str = "") -> QuerySet[Product]:
    """Published products this visitor may see: by group (Guests for anonymous visitors,
    Developers and their own groups for signed-in users); staff and Administrators see all."""
    qs = Product.objects.filter(state=Product.State.PUBLISHED)
    if not _sees_every_product(user):
        if getattr(user, "is_authenticated", False):
            visible = Q(groups__name=PORTAL_DEVELOPERS_GROUP) | Q(groups__user=user)
        else:
            visible = Q(groups__name=PORTAL_GUESTS_GROUP)
        qs = qs.filter(pk__in=Product.objects.filter(visible).values("pk"))
    if search:
        qs = qs.filter(Q(display_name__icontains=search) | Q(description__icontains=search))
    return qs.prefetch_related("apis").order_by("display_name")


def portal_apis(user, *, search: str = "") -> QuerySet[Api]:
    """APIs this visitor may see: those in at least one product visible to them."""
    qs = Api.objects.filter(products__in=portal_products(user).values("pk")).distinct()
    if search:
        qs = qs.filter(
            Q(display_name__icontains=search)
            | Q(description__icontains=search)
            | Q(url_suffix__icontains=search)
        )
    return qs.order_by("display_name")
