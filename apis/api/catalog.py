"""Declarative catalog: export APIs, products, gateways' API assignments and host names,
policies, named values and policy fragments; apply one.

Applying is idempotent and atomic: objects are matched by name, created when missing, updated
only where a field differs (an unchanged object is not saved, so gateways see no change), and
nothing is deleted. Subscriptions and keys are never part of a catalog.
"""

from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import models, transaction
from rest_framework import exceptions

from apis import selectors, services
from apis.api.catalog_hostnames import apply_hostnames, check_hostnames, hostnames_entry
from apis.api.catalog_library import LIBRARY, apply_library, check_library_shape, export_library
from apis.asyncapi.catalog_entry import asyncapi_entry, declared_fields
from apis.models import (
    API_EDITABLE_FIELDS,
    GATEWAY_EDITABLE_FIELDS,
    PRODUCT_EDITABLE_FIELDS,
    Api,
    Gateway,
    Product,
)

VERSION = 1
# The editable fields (apis.models) as catalog entries hold them: the name is the entry's key,
# and an API's AsyncAPI document is exported on its own (asyncapi_entry).
GATEWAY_FIELDS = tuple(f for f in GATEWAY_EDITABLE_FIELDS if f != "name")
API_FIELDS = tuple(f for f in API_EDITABLE_FIELDS if f not in ("name", "asyncapi_contract"))
PRODUCT_FIELDS = tuple(f for f in PRODUCT_EDITABLE_FIELDS if f != "name")
SECTIONS = {"gateways": GATEWAY_FIELDS, "apis": API_FIELDS, "products": PRODUCT_FIELDS}


def export_catalog() -> dict:
    """The catalog as plain data, in a stable order (diffable in git)."""
    return {
        "version": VERSION,
        "global_policy": selectors.global_policy().policy_xml,
        "gateways": [
            _entry(
                g, GATEWAY_FIELDS, apis=sorted(a.name for a in g.apis.all()), **hostnames_entry(g)
            )
            for g in selectors.management_gateways()
        ],
        "apis": [_api_entry(a) for a in selectors.management_apis()],
        "products": [
            _entry(p, PRODUCT_FIELDS, apis=sorted(a.name for a in p.apis.all()))
            for p in selectors.management_products()
        ],
        **export_library(),
    }


def _entry(obj, fields, **extra) -> dict:
    return {"name": obj.name, **{f: getattr(obj, f) for f in fields}, **extra}


def _api_entry(api) -> dict:
    entry = _entry(api, API_FIELDS, **asyncapi_entry(api))
    if not entry["source"]:
        del entry["source"]  # a WebSocket backend has none: its files stay as they were
    return entry


class _Errors:
    """Every problem found in one document, keyed by where it is (`apis[2].backend_url`)."""

    def __init__(self) -> None:
        self.detail: dict[str, list[str]] = {}

    def add(self, where: str, message) -> None:
        self.detail.setdefault(where, []).append(str(message))

    def __len__(self) -> int:
        return len(self.detail)

    @contextmanager
    def located(self, where: str):
        """Record the block's model validation errors under `where` and carry on."""
        try:
            with transaction.atomic():  # a failed write leaves nothing half-done behind
                yield
        except ValidationError as exc:
            detail = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
            for key, messages in detail.items():
                for message in messages:
                    self.add(f"{where}.{key}" if key not in ("", "__all__") else where, message)


_MODELS = {"gateways": Gateway, "apis": Api, "products": Product}


def _type_error(field, value) -> str | None:
    """Why `value` cannot go into model `field` (None when it can), before any model code runs."""
    if value is None:
        return None if field.null else "This field cannot be null."
    if isinstance(field, models.BooleanField):
        ok, expected = isinstance(value, bool), "true or false"
    elif isinstance(field, models.IntegerField):
        ok, expected = isinstance(value, int) and not isinstance(value, bool), "an integer"
    elif isinstance(field, models.CharField | models.TextField):
        ok, expected = isinstance(value, str), "a string"
    else:
        return None
    return None if ok else f"Expected {expected}, not {value!r}."[:200]


def _check_shape(document, errors: _Errors) -> dict:
    """The entries that can be applied; what is wrong with the rest goes to `errors`."""
    if not isinstance(document, dict):
        errors.add("document", "A catalog is a mapping.")
        return {}
    if document.get("version", VERSION) != VERSION:
        errors.add("version", f"Only version {VERSION} is understood.")
        return {}
    for key in sorted(set(document) - {"version", "global_policy", *SECTIONS, *LIBRARY}):
        errors.add(key, "Unknown section.")
    usable: dict = {}
    check_library_shape(document, errors, usable)
    if "global_policy" in document:
        xml = document["global_policy"]
        if xml is None or isinstance(xml, str):
            usable["global_policy"] = xml
        else:
            errors.add("global_policy", "Expected a string.")
    for section, fields in SECTIONS.items():
        if section not in document:
            continue
        entries = document[section]
        if not isinstance(entries, list):
            errors.add(section, "Expected a list.")
            continue
        usable[section] = []
        allowed = {"name", *fields} | ({"apis"} if section != "apis" else {"asyncapi"})
        if section == "gateways":
            allowed.add("hostnames")
        for i, entry in enumerate(entries):
            where = f"{section}[{i}]"
            if not isinstance(entry, dict) or not entry.get("name"):
                errors.add(where, "Needs a name.")
                continue
            clean = {}
            for key, value in entry.items():
                if key not in allowed:
                    errors.add(f"{where}.{key}", "Unknown field.")
                elif key == "asyncapi":  # an AsyncAPI document, checked when applied
                    clean[key] = value
                elif key == "hostnames":
                    if check_hostnames(value, f"{where}.hostnames", errors):
                        clean[key] = value
                elif key == "apis":
                    if isinstance(value, list) and all(isinstance(v, str) for v in value):
                        clean[key] = value
                    else:
                        errors.add(f"{where}.apis", "Expected a list of API names.")
                elif key == "name" and not isinstance(value, str):
                    errors.add(f"{where}.name", "Expected a string.")
                elif problem := _type_error(_MODELS[section]._meta.get_field(key), value):
                    errors.add(f"{where}.{key}", problem)
                else:
                    clean[key] = value
            if "name" in clean:
                usable[section].append((where, clean))
    return usable


def _resolve_apis(names, where: str, errors: _Errors, failed: set[str]) -> list[Api] | None:
    found = {a.name: a for a in Api.objects.filter(name__in=names)}
    # An API whose own entry failed is already reported; do not report it again as unknown.
    missing = sorted(set(names) - set(found) - failed)
    if missing:
        errors.add(where, f"Unknown API(s): {', '.join(missing)}.")
    if set(names) - set(found):
        return None
    return [found[n] for n in names]


def _declared(entry: dict, fields) -> dict:
    """The model fields an entry states (a field it leaves out keeps its value)."""
    return {f: entry[f] for f in fields if f in entry}


def _changes(obj, declared: dict) -> dict:
    """What applying `declared` changes: the one diff behind both "updated" and the save."""
    return {f: value for f, value in declared.items() if getattr(obj, f) != value}


@transaction.atomic
def apply_catalog(document) -> dict:
    """Create or update everything the document names; returns what was created and updated.

    Every error in the document is reported at once (400, each naming its entry and field),
    and then nothing is applied.
    """
    errors = _Errors()
    usable = _check_shape(document, errors)
    done: dict[str, list[str]] = {"created": [], "updated": []}
    apply_library(usable, errors, done)  # before the policies that use them
    if "global_policy" in usable:
        xml = usable["global_policy"] or ""
        if selectors.global_policy().policy_xml != xml:
            with errors.located("global_policy"):
                services.set_global_policy(policy_xml=xml)
            done["updated"].append("global policy")

    failed_gateways: set[str] = set()
    for where, entry in usable.get("gateways", []):
        fields = _declared(entry, GATEWAY_FIELDS)
        gateway = Gateway.objects.filter(name=entry["name"]).first()
        before = len(errors)
        with errors.located(where):
            if gateway is None:
                services.create_gateway(name=entry["name"], **fields)
                done["created"].append(f"gateway {entry['name']}")
            elif changed := _changes(gateway, fields):
                services.update_gateway(gateway=gateway, **changed)
                done["updated"].append(f"gateway {entry['name']}")
        if len(errors) != before:
            failed_gateways.add(entry["name"])

    # Gateways' assignments are set below; a new API starts on none when the file lists gateways.
    start_on = [] if "gateways" in usable else None
    failed_apis: set[str] = set()
    for where, entry in usable.get("apis", []):
        api = Api.objects.filter(name=entry["name"]).first()
        before = len(errors)
        with errors.located(where):
            # The `asyncapi` document's contract, and its info where it agrees with the entry.
            fields = declared_fields(entry) | _declared(entry, API_FIELDS)
            if api is None:
                services.create_api(name=entry["name"], gateways=start_on, **fields)
                done["created"].append(f"api {entry['name']}")
            elif changed := _changes(api, fields):
                services.update_api(api=api, **changed)
                done["updated"].append(f"api {entry['name']}")
        if len(errors) != before or not Api.objects.filter(name=entry["name"]).exists():
            failed_apis.add(entry["name"])

    for where, entry in usable.get("products", []):
        product = Product.objects.filter(name=entry["name"]).first()
        fields = _declared(entry, PRODUCT_FIELDS)
        apis = None
        if "apis" in entry:
            apis = _resolve_apis(entry["apis"], f"{where}.apis", errors, failed_apis)
            if apis is None:
                continue
        with errors.located(where):
            if product is None:
                services.create_product(name=entry["name"], apis=apis or (), **fields)
                done["created"].append(f"product {entry['name']}")
                continue
            changed = _changes(product, fields)
            same_apis = apis is None or {a.pk for a in apis} == set(
                product.apis.values_list("pk", flat=True)
            )
            if changed or not same_apis:
                services.update_product(product=product, apis=apis, **changed)
                done["updated"].append(f"product {entry['name']}")

    for where, entry in usable.get("gateways", []):
        if "hostnames" not in entry or entry["name"] in failed_gateways:
            continue
        gateway = Gateway.objects.get(name=entry["name"])
        if apply_hostnames(gateway, entry["hostnames"], f"{where}.hostnames", errors):
            label = f"gateway {entry['name']}"
            if label not in done["created"] + done["updated"]:
                done["updated"].append(label)

    for where, entry in usable.get("gateways", []):
        if "apis" not in entry or entry["name"] in failed_gateways:
            continue
        gateway = Gateway.objects.get(name=entry["name"])
        apis = _resolve_apis(entry["apis"], f"{where}.apis", errors, failed_apis)
        if apis is None:
            continue
        if {a.pk for a in apis} != set(gateway.apis.values_list("pk", flat=True)):
            services.set_gateway_apis(gateway=gateway, apis=apis)
            label = f"gateway {entry['name']}"
            if label not in done["created"] + done["updated"]:
                done["updated"].append(label)
    if errors:
        # Raised inside the transaction: everything applied above is rolled back.
        raise exceptions.ValidationError(errors.detail)
    return done
