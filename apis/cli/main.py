"""`portico` command line: parse arguments, call the management API, exit non-zero on errors."""

import argparse
import json
import sys

from apis.cli import certificate_commands, commands, connection_commands, library_commands
from apis.cli.client import Client, CliError, load_settings
from portico_client import PorticoError

EPILOG = (
    "Configuration: PORTICO_URL (default http://127.0.0.1:8000) and PORTICO_TOKEN, or `url` and "
    "`token` in ~/.config/portico/config.toml (PORTICO_CONFIG names another file)."
)
TRANSITIONS = ("approve", "reject", "suspend", "reactivate", "cancel")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portico", description=__doc__, epilog=EPILOG)
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    groups = parser.add_subparsers(dest="group", required=True, metavar="COMMAND")

    def verbs(name: str, help: str):
        return groups.add_parser(name, help=help).add_subparsers(dest="verb", required=True)

    def verb(sub, name: str, func, help: str = ""):
        p = sub.add_parser(name, help=help)
        p.set_defaults(func=func)
        return p

    api = verbs("api", "WebSocket APIs")
    p = verb(api, "list", commands.api_list)
    p.add_argument("--product")
    p.add_argument("--gateway")
    verb(api, "get", commands.api_get).add_argument("name")
    for name, func in (("create", commands.api_create), ("update", commands.api_update)):
        p = verb(api, name, func)
        if name == "update":
            p.add_argument("api", help="the API's name")
        required = name == "create"
        p.add_argument("--display-name", required=required)
        p.add_argument(
            "--backend",
            required=required,
            help="ws:// or wss:// backend URL, or an event broker's (redis, nats, mqtt)",
        )
        p.add_argument(
            "--source",
            type=json_object,
            help='an event broker\'s source object as JSON, e.g. \'{"subscribe": "prices"}\'',
        )
        p.add_argument("--suffix", required=required, help="URL suffix on the gateway")
        p.add_argument("--name", help="defaults to a slug of the display name")
        p.add_argument("--description")
        p.add_argument("--scheme", choices=["ws", "wss", "both"])
        p.add_argument("--product", action="append", help="repeat for several products")
        p.add_argument("--gateway", action="append", help="repeat; default the built-in one")
    verb(api, "delete", commands.api_delete).add_argument("name")
    p = verb(api, "import", commands.api_import, "create or update an API from AsyncAPI")
    p.add_argument("--asyncapi", required=True, metavar="FILE", help="YAML or JSON, - for stdin")
    p.add_argument("--suffix", help="URL suffix on the gateway (required for a new API)")
    p.add_argument("--name", help="the API to create or update; default from info.title")
    p.add_argument(
        "--server",
        help="the document's ws/wss server that is the backend (a new API needs one if the "
        "document has several; an update keeps its backend unless this or --backend is given)",
    )
    p.add_argument("--backend", help="a backend URL instead of the document's servers")
    p.add_argument("--product", action="append", help="repeat for several products")
    p.add_argument("--gateway", action="append", help="repeat; default the built-in one")
    p = verb(api, "asyncapi", commands.api_asyncapi, "print the API as an AsyncAPI document")
    p.add_argument("name")

    product = verbs("product", "products")
    verb(product, "list", commands.product_list).add_argument("--state")
    verb(product, "get", commands.product_get).add_argument("name")
    p = verb(product, "create", commands.product_create)
    p.add_argument("--display-name", required=True)
    p.add_argument("--name")
    p.add_argument("--description")
    p.add_argument("--state", choices=["published", "not_published"])
    p.add_argument("--approval-required", action="store_true", default=None)
    p.add_argument("--api", action="append", help="repeat for several APIs")
    p = verb(product, "delete", commands.product_delete)
    p.add_argument("name")
    p.add_argument("--force", action="store_true", help="also delete its subscriptions")

    gateway = verbs("gateway", "gateways")
    verb(gateway, "list", commands.gateway_list)
    verb(gateway, "get", commands.gateway_get).add_argument("name")
    p = verb(gateway, "create", commands.gateway_create)
    p.add_argument("name")
    p.add_argument("--kind", choices=["self_hosted", "managed"], help="default self_hosted")
    p.add_argument("--description")
    p.add_argument("--api", action="append", help="an API it serves; repeat for several")
    certificate_commands.add_hostnames_parser(gateway, verb)
    p = verb(gateway, "token", commands.gateway_token, "new node token, shown once (admins)")
    p.add_argument("name")
    p.add_argument("--secondary", action="store_true", help="replace the secondary token")

    sub = verbs("subscription", "subscriptions")
    p = verb(sub, "list", commands.subscription_list)
    p.add_argument("--state")
    p.add_argument("--product")
    p.add_argument("--owner", help="username")
    verb(sub, "get", commands.subscription_get).add_argument("id", type=int)
    p = verb(sub, "create", commands.subscription_create)
    p.add_argument("--display-name", required=True)
    p.add_argument("--owner", help="username; omit for a standalone subscription")
    target = p.add_mutually_exclusive_group()
    target.add_argument("--product")
    target.add_argument("--api")
    for name in TRANSITIONS:
        p = verb(sub, name, commands.subscription_transition)
        p.add_argument("id", type=int)
        p.add_argument("--comment", default="")

    key = verbs("key", "subscription keys")
    verb(key, "list", commands.key_list, "show both keys (audited)").add_argument("id", type=int)
    p = verb(key, "regenerate", commands.key_regenerate)
    p.add_argument("id", type=int)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--primary", action="store_true", help="(the default)")
    which.add_argument("--secondary", action="store_true")

    policy = verbs("policy", "policy documents")
    help_target = "global, product:NAME, api:NAME or an API name"
    verb(policy, "get", commands.policy_get).add_argument("target", help=help_target)
    p = verb(policy, "set", commands.policy_set)
    p.add_argument("target", help=help_target)
    p.add_argument("--file", "-f", required=True, help="the XML document, or - for stdin")
    verb(policy, "effective", commands.policy_effective).add_argument("api")

    library_commands.add_parsers(verbs, verb)
    certificate_commands.add_parsers(verbs, verb)
    connection_commands.add_parsers(verbs, verb)

    user = verbs("user", "users (admins only)")
    verb(user, "list", commands.user_list)

    p = groups.add_parser("export", help="print the catalog as YAML")
    p.set_defaults(func=commands.export)
    p = groups.add_parser("apply", help="create or update the catalog from a YAML file")
    p.add_argument("--file", "-f", required=True, help="catalog YAML, or - for stdin")
    p.set_defaults(func=commands.apply)
    return parser


def json_object(text: str) -> dict:
    """An argument holding a JSON object (argparse reports the error beside the option)."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError('a JSON object, e.g. {"subscribe": "prices"}')
    return value


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        url, token = load_settings()
        with Client(url, token) as client:
            args.func(client, args)
    except PorticoError as exc:
        exc = CliError.from_sdk(exc)
        print(f"portico: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except CliError as exc:
        print(f"portico: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
