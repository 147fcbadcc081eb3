"""Effective policies: an API's document with its product's and All APIs' filled in, for pages
(secret values shown as `{{name}}`), and the All APIs row."""

from dataclasses import dataclass

from apis.models import Api, GlobalPolicy, Product
from apis.policy_validation import policy_environment
from gateway.policies import PolicyError, effective_document

NO_PRODUCT_APPLIES_TO = (
    "all-APIs and API-scoped subscriptions, and handshakes without a subscription key"
)


@dataclass(frozen=True)
class EffectiveVariant:
    """The effective policy one group of callers gets: a product's subscribers, or no product.

    `effective` has `.to_xml()`, `.inbound` and `.warnings`; it is None when a stored document
    no longer parses (then `error` says why).
    """

    product: Product | None
    applies_to: str
    effective: object | None
    error: str = ""


def effective_policy(api: Api, product: Product | None = None):
    """The policy a handshake to `api` runs: the API's document with `<base/>` filled in.

    As in Azure, only the subscription's own product's policy applies: with `product`, API ->
    that product -> All APIs (what its subscribers get); without, API -> All APIs (all-APIs and
    API-scoped subscriptions). The result has `.to_xml()`, `.inbound` and `.warnings`.
    """
    env = policy_environment()
    product_docs = [product.policy_xml] if product is not None else []
    global_xml = GlobalPolicy.objects.order_by("pk").values_list("policy_xml", flat=True).first()
    try:
        effective = effective_document(
            env.resolve(api.policy_xml),
            [env.resolve(x) for x in product_docs],
            env.resolve(global_xml or ""),
        )
    except PolicyError as exc:
        raise PolicyError(env.describe(exc)) from None
    return RedactedEffective(effective, env)


class RedactedEffective:
    """An effective policy for pages: named values resolved, secret values shown as `{{name}}`."""

    def __init__(self, effective, env) -> None:
        self.effective, self.env = effective, env

    @property
    def inbound(self):
        return self.effective.inbound

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(self.env.redact(w) for w in self.effective.warnings)

    def to_xml(self) -> str:
        return self.env.redact(self.effective.to_xml())


def effective_policies(api: Api) -> list[EffectiveVariant]:
    """The API's effective policy for each of its products' subscribers, then without a product."""
    variants = []
    for product in [*api.products.order_by("id"), None]:
        applies_to = (
            NO_PRODUCT_APPLIES_TO
            if product is None
            else f"subscribers of product {product.display_name} ({product.name})"
        )
        try:
            variants.append(EffectiveVariant(product, applies_to, effective_policy(api, product)))
        except PolicyError as error:
            variants.append(EffectiveVariant(product, applies_to, None, str(error)))
    return variants


def global_policy() -> GlobalPolicy:
    """The All APIs policy row, or an unsaved empty one."""
    return GlobalPolicy.objects.order_by("pk").first() or GlobalPolicy()
