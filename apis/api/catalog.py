"""Declarative catalog: export APIs, products, gateways' API assignments and policies; apply one.

Applying is idempotent and atomic: objects are matched by name, created when missing, updated
only where a field differs (an unchanged object is not saved, so gateways see no change), and
nothing is deleted. Subscriptions and keys are never part of a catalog.
"""

from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import transaction
from rest_framework import exceptions

from apis import selectors, services
from apis.models import Api, Gateway, Product

VERSION = 1
GATEWAY_FIELDS = (
    "description",
    "kind",
    "location_name",
    "location_city",
    "location_district",
    "location_country",
)
API_FIELDS = (
    "display_name",
    "description",
    "backend_url",
    "url_scheme",
    "url_suffix",
    "subscription_required",
    "subscription_key_header",
    "subscription_key_query",
    "max_message_bytes",
    "idle_timeout_seconds",
    "max_duration_seconds",
    "policy_xml",
)
PRODUCT_FIELDS = (
    "display_name",
    "description",
    "state",
    "subscription_required",
    "approval_required",
    "subscriptions_limit",
    "legal_terms",
    "policy_xml",
)
SECTIONS = {"gateways": GATEWAY_FIELDS, "apis": API_FIELDS, "products": PRODUCT_FIELDS}


def export_catalog() -> dict:
    """The catalog as plain data, in a stable order (diffable in git)."""
    return {
        "version": VERSION,
        "global_policy": selectors.global_policy().policy_xml,
        "gateways": [
            _entry(g, GATEWAY_FIELDS, apis=sorted(a.name for a in g.apis.all()))
            for g in selectors.management_gateways()
        ],
        "apis": [_entry(a, API_FIELDS) for a in selectors.management_apis()],
        "products": [
            _entry(p, PRODUCT_FIELDS, apis=sorted(a.name for a in p.apis.all()))
            for p in selectors.management_products()
        ],
    }


def _entry(obj, fields, **extra) -> dict:
    return {"name": obj.name, **{f: getattr(obj, f) for f in fields}, **extra}


@contextmanager
def _located(where: str):
    """Name the catalog entry in validation errors: `apis[2].backend_url`."""
    try:
        yield
    except ValidationError as exc:
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        raise exceptions.ValidationError(
            {f"{where}.{k}" if k not in ("", "__all__") else where: v for k, v in detail.items()}
        ) from None


def _check_shape(document) -> None:
    if not isinstance(document, dict):
        raise exceptions.ValidationError({"document": "A catalog is a mapping."})
    if document.get("version", VERSION) != VERSION:
        raise exceptions.ValidationError({"version": f"Only version {VERSION} is understood."})
    unknown = set(document) - {"version", "global_policy", *SECTIONS}
    if unknown:
        raise exceptions.ValidationError({k: "Unknown section." for k in sorted(unknown)})
    for section, fields in SECTIONS.items():
        entries = document.get(section, [])
        if not isinstance(entries, list):
            raise exceptions.ValidationError({section: "Expected a list."})
        allowed = {"name", *fields} | ({"apis"} if section != "apis" else set())
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or not entry.get("name"):
                raise exceptions.ValidationError({f"{section}[{i}]": "Needs a name."})
            extra = set(entry) - allowed
            if extra:
                raise exceptions.ValidationError(
                    {f"{section}[{i}].{k}": "Unknown field." for k in sorted(extra)}
                )


def _resolve_apis(names, where: str) -> list[Api]:
    found = {a.name: a for a in Api.objects.filter(name__in=names)}
    missing = sorted(set(names) - set(found))
    if missing:
        raise exceptions.ValidationError({where: f"Unknown API(s): {', '.join(missing)}."})
    return [found[n] for n in names]


def _changes(obj, entry: dict, fields) -> dict:
    return {f: entry[f] for f in fields if f in entry and getattr(obj, f) != entry[f]}


@transaction.atomic
def apply_catalog(document) -> dict:
    """Create or update everything the document names; returns what was created and updated."""
    _check_shape(document)
    done: dict[str, list[str]] = {"created": [], "updated": []}
    if "global_policy" in document:
        xml = document["global_policy"] or ""
        if selectors.global_policy().policy_xml != xml:
            with _located("global_policy"):
                services.set_global_policy(policy_xml=xml)
            done["updated"].append("global policy")

    for i, entry in enumerate(document.get("gateways", [])):
        fields = {f: entry[f] for f in GATEWAY_FIELDS if f in entry}
        gateway = Gateway.objects.filter(name=entry["name"]).first()
        with _located(f"gateways[{i}]"):
            if gateway is None:
                services.create_gateway(name=entry["name"], **fields)
                done["created"].append(f"gateway {entry['name']}")
            elif changed := _changes(gateway, entry, GATEWAY_FIELDS):
                services.update_gateway(gateway=gateway, **changed)
                done["updated"].append(f"gateway {entry['name']}")

    # Gateways' assignments are set below; a new API starts on none when the file lists gateways.
    start_on = [] if "gateways" in document else None
    for i, entry in enumerate(document.get("apis", [])):
        api = Api.objects.filter(name=entry["name"]).first()
        fields = {f: entry[f] for f in API_FIELDS if f in entry}
        with _located(f"apis[{i}]"):
            if api is None:
                services.create_api(name=entry["name"], gateways=start_on, **fields)
                done["created"].append(f"api {entry['name']}")
            elif changed := _changes(api, entry, API_FIELDS):
                services.update_api(api=api, **changed)
                done["updated"].append(f"api {entry['name']}")

    for i, entry in enumerate(document.get("products", [])):
        product = Product.objects.filter(name=entry["name"]).first()
        fields = {f: entry[f] for f in PRODUCT_FIELDS if f in entry}
        apis = _resolve_apis(entry["apis"], f"products[{i}].apis") if "apis" in entry else None
        with _located(f"products[{i}]"):
            if product is None:
                services.create_product(name=entry["name"], apis=apis or (), **fields)
                done["created"].append(f"product {entry['name']}")
                continue
            changed = _changes(product, entry, PRODUCT_FIELDS)
            same_apis = apis is None or {a.pk for a in apis} == set(
                product.apis.values_list("pk", flat=True)
            )
            if changed or not same_apis:
                services.update_product(product=product, apis=apis, **changed)
                done["updated"].append(f"product {entry['name']}")

    for i, entry in enumerate(document.get("gateways", [])):
        if "apis" not in entry:
            continue
        gateway = Gateway.objects.get(name=entry["name"])
        apis = _resolve_apis(entry["apis"], f"gateways[{i}].apis")
        if {a.pk for a in apis} != set(gateway.apis.values_list("pk", flat=True)):
            services.set_gateway_apis(gateway=gateway, apis=apis)
            label = f"gateway {entry['name']}"
            if label not in done["created"] + done["updated"]:
                done["updated"].append(label)
    return done
