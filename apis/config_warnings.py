"""Configuration that does nothing: the notes publishers see where it is set and on the overview."""

from dataclasses import dataclass

from django.db.models import Count, Q

from apis.models import Api, Product


@dataclass(frozen=True)
class ConfigWarning:
    kind: str  # "api" or "product"
    name: str  # the object's name (for its URL)
    display_name: str
    field: str  # the form field the note belongs beside
    message: str


def api_warnings(api: Api) -> dict[str, str]:
    """Field name -> note, for an API's Settings tab."""
    notes = {}
    gateways = list(api.gateways.all())
    if not gateways:
        notes["gateways"] = "On no gateway: no client can connect to this API."
    if not api.products.exists():
        notes["products"] = (
            "In no product: developers cannot find it in the portal or subscribe to it; "
            "only all-access and API-scoped subscriptions open it."
        )
    if not api.subscription_required and gateways:
        names = ", ".join(g.name for g in gateways)
        notes["subscription_required"] = (
            f"No subscription required: anyone who reaches the gateway ({names}) connects "
            "without a key, and usage is not tied to a developer."
        )
    return notes


def product_warnings(product: Product) -> dict[str, str]:
    """Field name -> note, for a product's Settings tab."""
    notes = {}
    if product.state == Product.State.PUBLISHED and not product.groups.exists():
        notes["groups"] = (
            "Published but visible to no group: no developer sees it, and its page answers "
            "404. Tick Developers (signed-in) or Guests (anonymous)."
        )
    if not product.apis.exists():
        notes["apis"] = "No APIs: a subscription to this product opens nothing."
    return notes


def all_warnings() -> list[ConfigWarning]:
    """Every such note in the catalog, for the publisher's overview (a few queries in all)."""
    found = []
    apis = Api.objects.annotate(
        n_gateways=Count("gateways", distinct=True), n_products=Count("products", distinct=True)
    ).order_by("display_name")
    for api in apis:
        fields = []
        if not api.n_gateways:
            fields.append("gateways")
        if not api.n_products:
            fields.append("products")
        if not api.subscription_required and api.n_gateways:
            fields.append("subscription_required")
        if fields:
            notes = api_warnings(api)
            found += [
                ConfigWarning("api", api.name, api.display_name, f, notes[f])
                for f in fields
                if f in notes
            ]
    products = Product.objects.annotate(
        n_groups=Count("groups", distinct=True), n_apis=Count("apis", distinct=True)
    ).filter(Q(n_groups=0, state=Product.State.PUBLISHED) | Q(n_apis=0))
    for product in products.order_by("display_name"):
        notes = product_warnings(product)
        found += [
            ConfigWarning("product", product.name, product.display_name, f, m)
            for f, m in notes.items()
        ]
    return found
