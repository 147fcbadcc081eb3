"""`portico connection list|get|close`: open connections on every gateway node, and closing one."""

from apis.cli.client import Client
from apis.cli.commands import PAGE, raws
from apis.cli.output import emit

CONNECTION_COLUMNS = [
    "id",
    "node",
    "api",
    "subscription",
    "client_ip",
    "opened_at",
    "messages_up",
    "messages_down",
]


def connection_list(c: Client, args):
    found = c.connections.list(
        page_size=PAGE,
        api=args.api,
        product=args.product,
        subscription=args.subscription,
        node=args.node,
    )
    emit(raws(found), as_json=args.json, columns=CONNECTION_COLUMNS)


def connection_get(c: Client, args):
    emit(c.connections.get(args.id).raw, as_json=args.json)


def connection_close(c: Client, args):
    """The client gets 1008 with the reason, the backend 1001 (audited on the server)."""
    emit(c.connections.close(args.id, args.reason).raw, as_json=args.json)


def add_parsers(verbs, verb) -> None:
    """Register the group on the `portico` parser (see apis.cli.main)."""
    connection = verbs("connection", "open connections on every gateway node")
    p = verb(connection, "list", connection_list)
    p.add_argument("--api", help="API name")
    p.add_argument("--product", help="product name")
    p.add_argument("--subscription", type=int, help="subscription id")
    p.add_argument("--node", help="node id")
    verb(connection, "get", connection_get).add_argument("id")
    p = verb(connection, "close", connection_close, "close one (client 1008, backend 1001)")
    p.add_argument("id")
    p.add_argument("--reason", help='the close reason (default "closed by an administrator")')
