"""What each `portico` subcommand does: one small function per verb, on top of the API client."""

import sys
from pathlib import Path

import yaml

from apis.cli.client import Client, CliError
from apis.cli.output import emit, from_yaml, to_yaml

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
    rows = c.list("apis/", product=args.product, gateway=args.gateway)
    emit(rows, as_json=args.json, columns=API_COLUMNS)


def api_get(c: Client, args):
    emit(c.get(f"apis/{args.name}/"), as_json=args.json)


def api_create(c: Client, args):
    emit(c.call("POST", "apis/", _fields(args, API_OPTIONS)).data, as_json=args.json)


def api_update(c: Client, args):
    current = c.call("GET", f"apis/{args.api}/")
    body = _fields(args, API_OPTIONS)
    emit(c.call("PATCH", f"apis/{args.api}/", body, if_match=current.etag).data, as_json=args.json)


def api_import(c: Client, args):
    """Create or update an API from an AsyncAPI document (YAML or JSON, sent as text)."""
    body = {"document": sys.stdin.read() if args.asyncapi == "-" else _read(args.asyncapi)}
    body |= _fields(
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
    emit(c.call("POST", "apis/import-asyncapi/", body).data, as_json=args.json)


def api_asyncapi(c: Client, args):
    """Print the API as an AsyncAPI 3.0 document (YAML, or JSON with --json)."""
    document = c.get(f"apis/{args.name}/asyncapi", format="json")
    if args.json:
        emit(document, as_json=True)
    else:
        sys.stdout.write(to_yaml(document))


def api_delete(c: Client, args):
    c.call("DELETE", f"apis/{args.name}/")
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
    emit(c.list("products/", state=args.state), as_json=args.json, columns=PRODUCT_COLUMNS)


def product_get(c: Client, args):
    emit(c.get(f"products/{args.name}/"), as_json=args.json)


def product_create(c: Client, args):
    emit(c.call("POST", "products/", _fields(args, PRODUCT_OPTIONS)).data, as_json=args.json)


def product_delete(c: Client, args):
    params = {"force": "true"} if args.force else None
    try:
        c.call("DELETE", f"products/{args.name}/", params=params)
    except CliError as exc:
        if str(exc).startswith("409 "):
            raise CliError(f"{exc} (portico product delete {args.name} --force)") from None
        raise
    emit({"deleted": args.name}, as_json=args.json)


def gateway_list(c: Client, args):
    emit(c.list("gateways/"), as_json=args.json, columns=GATEWAY_COLUMNS)


def gateway_get(c: Client, args):
    emit(c.get(f"gateways/{args.name}/"), as_json=args.json)


def gateway_create(c: Client, args):
    body = {"name": args.name} | _fields(
        args, {"kind": "kind", "description": "description", "api": "apis"}
    )
    emit(c.call("POST", "gateways/", body).data, as_json=args.json)


def gateway_token(c: Client, args):
    """Replace a node token and print it once, as the shell lines that start a node."""
    which = "secondary" if args.secondary else "primary"
    data = c.call("POST", f"gateways/{args.name}/regenerateToken/", {"token": which}).data
    if args.json:
        emit(data, as_json=True)
        return
    print(f"# New {which} node token of the gateway {args.name}: shown once, only its hash is")
    print("# stored; nodes using the old one are refused. Start a node with:")
    print(data["commands"])


def subscription_list(c: Client, args):
    rows = c.list("subscriptions/", state=args.state, product=args.product, owner=args.owner)
    emit(rows, as_json=args.json, columns=SUBSCRIPTION_COLUMNS)


def subscription_get(c: Client, args):
    emit(c.get(f"subscriptions/{args.id}/"), as_json=args.json)


def subscription_create(c: Client, args):
    body = {"display_name": args.display_name, "owner": args.owner}
    if args.product:
        body |= {"scope": "product", "product": args.product}
    elif args.api:
        body |= {"scope": "api", "api": args.api}
    else:
        body |= {"scope": "all_apis"}
    emit(c.call("POST", "subscriptions/", body).data, as_json=args.json)


def subscription_transition(c: Client, args):
    path = f"subscriptions/{args.id}/{args.verb}/"
    emit(c.call("POST", path, {"comment": args.comment}).data, as_json=args.json)


def key_list(c: Client, args):
    emit(c.call("POST", f"subscriptions/{args.id}/listSecrets/").data, as_json=args.json)


def key_regenerate(c: Client, args):
    which = "secondary" if args.secondary else "primary"
    path = f"subscriptions/{args.id}/regenerateKey/"
    emit(c.call("POST", path, {"key": which}).data, as_json=args.json)


def policy_path(target: str) -> str:
    """`global`, `product:NAME`, `api:NAME` or a bare API name."""
    if target == "global":
        return "policies/global"
    kind, sep, name = target.partition(":")
    if sep and kind in ("product", "api"):
        return f"{kind}s/{name}/policy"
    if sep:
        raise CliError(f"unknown policy target {target!r}: use global, product:NAME or api:NAME")
    return f"apis/{target}/policy"


def policy_get(c: Client, args):
    data = c.get(policy_path(args.target))
    if args.json:
        emit(data, as_json=True)
    else:
        print(data["policy_xml"])


def policy_set(c: Client, args):
    xml = sys.stdin.read() if args.file == "-" else _read(args.file)
    path = policy_path(args.target)
    current = c.call("GET", path)  # write only over the version just read
    data = c.call("PUT", path, {"policy_xml": xml}, if_match=current.etag).data
    emit(data if args.json else {"updated": args.target}, as_json=args.json)


def policy_effective(c: Client, args):
    data = c.get(f"apis/{args.api}/effectivePolicy")
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
    emit(c.list("users/"), as_json=args.json, columns=USER_COLUMNS)


def export(c: Client, args):
    catalog = c.get("catalog/")
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
    result = c.call("POST", "catalog/apply/", document).data
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
