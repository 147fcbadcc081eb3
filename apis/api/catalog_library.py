"""Named values and policy fragments in the declarative catalog (export and apply).

A secret is exported as `{name, secret: true}` with no value; applying an entry without a value
keeps the stored secret (a new secret needs one). Both are applied before the policies that
use them, fragments in include order.
"""

from apis import services
from apis.models import NamedValue, PolicyFragment
from gateway.policies.fragments import fragment_ids

NAMED_VALUE_FIELDS = {"name": str, "description": str, "secret": bool, "value": str}
FRAGMENT_FIELDS = {"name": str, "description": str, "xml": str}
LIBRARY = {"named_values": NAMED_VALUE_FIELDS, "policy_fragments": FRAGMENT_FIELDS}


def export_library() -> dict:
    named = []
    for row in NamedValue.objects.order_by("name"):
        entry = {"name": row.name, "description": row.description, "secret": row.secret}
        if not row.secret:
            entry["value"] = row.value  # a secret's value never leaves in clear
        named.append(entry)
    fragments = [
        {"name": f.name, "description": f.description, "xml": f.xml}
        for f in PolicyFragment.objects.order_by("name")
    ]
    return {"named_values": named, "policy_fragments": fragments}


def check_library_shape(document: dict, errors, usable: dict) -> None:
    for section, fields in LIBRARY.items():
        if section not in document:
            continue
        entries = document[section]
        if not isinstance(entries, list):
            errors.add(section, "Expected a list.")
            continue
        usable[section] = []
        for i, entry in enumerate(entries):
            where = f"{section}[{i}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                errors.add(where, "Needs a name.")
                continue
            ok = True
            for key, value in entry.items():
                if key not in fields:
                    errors.add(f"{where}.{key}", "Unknown field.")
                    ok = False
                elif not isinstance(value, fields[key]):
                    errors.add(f"{where}.{key}", f"Expected {fields[key].__name__}.")
                    ok = False
            if ok:
                usable[section].append((where, entry))


def apply_library(usable: dict, errors, done: dict) -> None:
    for where, entry in usable.get("named_values", []):
        with errors.located(where):
            _apply_named_value(where, entry, errors, done)
    pending = list(usable.get("policy_fragments", []))
    ordered, known = [], set(PolicyFragment.objects.values_list("name", flat=True))
    while pending:  # a fragment after those it includes (a cycle is refused when applied)
        ready = [
            p for p in pending if fragment_ids(p[1].get("xml")) - known <= {p[1]["name"]}
        ] or pending[:1]
        for item in ready:
            pending.remove(item)
            ordered.append(item)
            known.add(item[1]["name"])
    for where, entry in ordered:
        with errors.located(where):
            fragment = PolicyFragment.objects.filter(name=entry["name"]).first()
            fields = {k: entry[k] for k in ("xml", "description") if k in entry}
            if fragment is None:
                services.create_policy_fragment(
                    name=entry["name"], xml=fields.get("xml", ""), **_only(fields, "description")
                )
                done["created"].append(f"policy fragment {entry['name']}")
            elif changed := {k: v for k, v in fields.items() if getattr(fragment, k) != v}:
                services.update_policy_fragment(fragment=fragment, **changed)
                done["updated"].append(f"policy fragment {entry['name']}")


def _only(fields: dict, *names: str) -> dict:
    return {k: fields[k] for k in names if k in fields}


def _apply_named_value(where: str, entry: dict, errors, done: dict) -> None:
    named = NamedValue.objects.filter(name=entry["name"]).first()
    secret = entry.get("secret", named.secret if named else False)
    value = entry.get("value")
    if named is None:
        if secret and value is None:
            errors.add(f"{where}.value", "A new secret named value needs its value.")
            return
        services.create_named_value(
            name=entry["name"],
            value=value or "",
            secret=secret,
            **_only(entry, "description"),
        )
        done["created"].append(f"named value {entry['name']}")
        return
    changed: dict = {}
    if "description" in entry and entry["description"] != named.description:
        changed["description"] = entry["description"]
    if secret != named.secret:
        changed["secret"] = secret
    # A secret without a value keeps the stored one (exports never carry it).
    if value is not None and (secret != named.secret or value != named.resolved_value()):
        changed["value"] = value
    if changed:
        services.update_named_value(named_value=named, **changed)
        done["updated"].append(f"named value {entry['name']}")
