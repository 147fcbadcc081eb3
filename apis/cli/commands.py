"""What each `portico` subcommand does: one small function per verb, on top of the SDK."""

import sys
from pathlib import Path

import yaml

from apis.cli.client import Client, CliError
from apis.cli.output import emit, from_yaml, to_yaml
from portico_client import PorticoError

API_COLUMNS = ["name", "display_name", "url_suffix", "backend_url", "products", "gateways"]
PRODUCT_COLUMNS = ["name", "display_name", "state", "approval_required", "apis"]
GATEWAY_COLUMNS = ["name", "kind", "status", "node_count", "apis"]
SUBSCRIPTION_COLUMNS = ["id", "display_name", "owner", "scope", "product", "api", "state"]
USER_COLUMNS = ["id", "username", "email", "is_staff", "is_superuser", "is_active"]


def _fields(args, mapping: dict[str, str]) -> dict:
    """Request fields from the options that were given (None means not given)."""
    return {
        field: getattr(args, opt)
        for opt, field in mapping.items()
        if getattr(args, opt) is not None
    }


PAGE = 500  # list pages as large as the API allows: fewer round trips for a whole table


def raws(models) -> list[dict]:
    """The objects as the server sent them: what the tables and --json print."""
    return [model.raw for model in models]


API_OPTIONS = {
    "display_name": "display_name",
    "backend": "backend_url",
    "source": "source",
    "suffix": "url_suffix",
    "name": "name",
    "description": "description",
    "scheme": "url_scheme",
    "product": "products",
    "gateway": "gateways",
}


def api_list(c: Client, args):
    rows = raws(c.apis.list(page_size=PAGE, product=args.product, gateway=args.gateway))
    emit(rows, as_json=args.json, columns=API_COLUMNS)


def api_get(c: Client, args):
    emit(c.apis.get(args.name).raw, as_json=args.json)


def api_create(c: Client, args):
    emit(c.apis.create(**_fields(args, API_OPTIONS)).raw, as_json=args.json)


def api_update(c: Client, args):
    current = c.apis.get(args.api)  # write only over the version just read
    updated = c.apis.update(args.api, if_match=current.etag, **_fields(args, API_OPTIONS))
    emit(updated.raw, as_json=args.json)


def api_import(c: Client, args):
    """Create or update an API from an AsyncAPI document (YAML or JSON, sent as text)."""
    document = sys.stdin.read() if args.asyncapi == "-" else _read(args.asyncapi)
    options = _fields(
        args,
        {
            "suffix": "url_suffix",
            "name": "name",
            "server": "server",
            "backend": "backend_url",
            "product": "products",
            "gateway": "gateways",
        },
    )
    emit(c.apis.import_asyncapi(document, **options).raw, as_json=args.json)


def api_asyncapi(c: Client, args):
    """Print the API as an AsyncAPI 3.0 document (YAML, or JSON with --json)."""
    document = c.apis.asyncapi(args.name)
    if args.json:
        emit(document, as_json=True)
    else:
        sys.stdout.write(to_yaml(document))


def api_delete(c: Client, args):
    c.apis.delete(args.name)
    emit({"deleted": args.name}, as_json=args.json)


PRODUCT_OPTIONS = {
    "display_name": "display_name",
    "name": "name",
    "description": "description",
    "state": "state",
    "approval_required": "approval_required",
    "api": "apis",
}


def product_list(c: Client, args):
    rows = raws(c.products.list(page_size=PAGE, state=args.state))
    emit(rows, as_json=args.json, columns=PRODUCT_COLUMNS)


def product_get(c: Client, args):
    emit(c.products.get(args.name).raw, as_json=args.json)


def product_create(c: Client, args):
    emit(c.products.create(**_fields(args, PRODUCT_OPTIONS)).raw, as_json=args.json)


def product_delete(c: Client, args):
    try:
        c.products.delete(args.name, force=args.force)
    except PorticoError as exc:
        if exc.status == 409:
            raise CliError(f"{exc} (portico product delete {args.name} --force)") from None
        raise
    emit({"deleted": args.name}, as_json=args.json)


def gateway_list(c: Client, args):
    emit(raws(c.gateways.list(page_size=PAGE)), as_json=args.json, columns=GATEWAY_COLUMNS)


def gateway_get(c: Client, args):
    emit(c.gateways.get(args.name).raw, as_json=args.json)


def gateway_create(c: Client, args):
    body = {"name": args.name} | _fields(
        args, {"kind": "kind", "description": "description", "api": "apis"}
    )
    emit(c.gateways.create(**body).raw, as_json=args.json)


def gateway_token(c: Client, args):
    """Replace a node token and print it once, as the shell lines that start a node."""
    which = "secondary" if args.secondary else "primary"
    data = c.gateways.regenerate_token(args.name, which).raw
    if args.json:
        emit(data, as_json=True)
        return
    print(f"# New {which} node token of the gateway {args.name}: shown once, only its hash is")
    print("# stored; nodes using the old one are refused. Start a node with:")
    print(data["commands"])


def subscription_list(c: Client, args):
    found = c.subscriptions.list(
        page_size=PAGE, state=args.state, product=args.product, owner=args.owner
    )
    rows = raws(found)
    emit(rows, as_json=args.json, columns=SUBSCRIPTION_COLUMNS)


def subscription_get(c: Client, args):
    emit(c.subscriptions.get(args.id).raw, as_json=args.json)


def subscription_create(c: Client, args):
    body = {"display_name": args.display_name, "owner": args.owner}
    if args.product:
        body |= {"scope": "product", "product": args.product}
    elif args.api:
        body |= {"scope": "api", "api": args.api}
    else:
        body |= {"scope": "all_apis"}
    emit(c.subscriptions.create(**body).raw, as_json=args.json)


def subscription_transition(c: Client, args):
    change = getattr(c.subscriptions, args.verb)  # approve, reject, suspend, ...
    emit(change(args.id, args.comment).raw, as_json=args.json)


def key_list(c: Client, args):
    emit(c.subscriptions.list_secrets(args.id).raw, as_json=args.json)


def key_regenerate(c: Client, args):
    which = "secondary" if args.secondary else "primary"
    emit(c.subscriptions.regenerate_key(args.id, which).raw, as_json=args.json)


def policy_door(c: Client, target: str):
    """(read, write) of the policy `target` names: `global`, `product:NAME`, `api:NAME` or a bare
    API name."""
    if target == "global":
        return c.policies.get_global, c.policies.set_global
    kind, sep, name = target.partition(":")
    if sep and kind in ("product", "api"):
        resource = c.products if kind == "product" else c.apis
    elif sep:
        raise CliError(f"unknown policy target {target!r}: use global, product:NAME or api:NAME")
    else:
        resource, name = c.apis, target
    return (
        lambda: resource.get_policy(name),
        lambda xml, if_match: resource.set_policy(name, xml, if_match=if_match),
    )


def policy_get(c: Client, args):
    read, _ = policy_door(c, args.target)
    data = read().raw
    if args.json:
        emit(data, as_json=True)
    else:
        print(data["policy_xml"])


def policy_set(c: Client, args):
    xml = sys.stdin.read() if args.file == "-" else _read(args.file)
    read, write = policy_door(c, args.target)
    current = read()  # write only over the version just read
    data = write(xml, if_match=current.etag).raw
    emit(data if args.json else {"updated": args.target}, as_json=args.json)


def policy_effective(c: Client, args):
    data = c.apis.effective_policy(args.api).raw
    if args.json:
        emit(data, as_json=True)
        return
    # Only the subscription's own product's policy applies, so there is one policy per product.
    for part in [*data.get("products", []), data]:
        print(f"<!-- for {part['applies_to']} -->")
        print(part["policy_xml"] or f"<!-- cannot compute: {part.get('error', '')} -->")
        for warning in part.get("warnings", []):
            print(f"warning: {warning}", file=sys.stderr)


def user_list(c: Client, args):
    emit(raws(c.users.list(page_size=PAGE)), as_json=args.json, columns=USER_COLUMNS)


def export(c: Client, args):
    catalog = c.catalog.export()
    if args.json:
        emit(catalog, as_json=True)
    else:
        sys.stdout.write(to_yaml(catalog))


def apply(c: Client, args):
    text = sys.stdin.read() if args.file == "-" else _read(args.file)
    try:
        document = from_yaml(text)
    except yaml.YAMLError as exc:
        raise CliError(f"{args.file}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    result = c.catalog.apply(document).raw
    if args.json:
        emit(result, as_json=True)
    elif not (result["created"] or result["updated"]):
        print("no changes")
    else:
        for verb in ("created", "updated"):
            for name in result[verb]:
                print(f"{verb} {name}")


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
