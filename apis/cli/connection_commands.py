"""`portico connection list|get|close|send|broadcast|token`: open connections on every gateway
node; closing one, sending to one or to all a selector matches; API-scoped tokens for them."""

import sys
from pathlib import Path

from apis.cli.client import Client, CliError
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
    "tags",
]


def connection_list(c: Client, args):
    found = c.connections.list(
        page_size=PAGE,
        api=args.api,
        product=args.product,
        subscription=args.subscription,
        node=args.node,
        gateway=args.gateway,
        tag=args.tag,
    )
    emit(raws(found), as_json=args.json, columns=CONNECTION_COLUMNS)


def connection_get(c: Client, args):
    emit(c.connections.get(args.id).raw, as_json=args.json)


def connection_close(c: Client, args):
    """The client gets 1008 with the reason, the backend 1001 (audited on the server)."""
    emit(c.connections.close(args.id, args.reason).raw, as_json=args.json)


def message(args) -> dict:
    """{"text": …} from --text, or {"data": bytes} from --file (binary; - for stdin)."""
    if args.file is None:
        return {"text": args.text}
    try:
        raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror}", 2) from None
    return {"data": raw}


def connection_send(c: Client, args):
    """One message to the connection's client: 404 gone, 413 too big, 429 its buffer is full."""
    emit(c.connections.send(args.id, **message(args)).raw, as_json=args.json)


def connection_broadcast(c: Client, args):
    selector = {
        name: getattr(args, name)
        for name in ("api", "product", "subscription", "gateway", "tag")
        if getattr(args, name) not in (None, "")
    }
    emit(c.connections.broadcast(**selector, **message(args)).raw, as_json=args.json)


def connection_token(c: Client, args):
    """Create an API-scoped token and print it once (only its hash is stored)."""
    data = c.apis.create_token(args.api, args.name).raw
    if args.json:
        emit(data, as_json=True)
        return
    print(f"# API-scoped token {data['name']!r} for the live connections of {args.api}: shown")
    print("# once, only its hash is stored. It lists, sends to and closes that API's connections.")
    print(data["token"])


def _message_arguments(p) -> None:
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--text", help="a text message")
    what.add_argument("--file", help="a binary message from this file (- for stdin)")


def add_parsers(verbs, verb) -> None:
    """Register the group on the `portico` parser (see apis.cli.main)."""
    connection = verbs("connection", "open connections on every gateway node")
    p = verb(connection, "list", connection_list)
    p.add_argument("--api", help="API name")
    p.add_argument("--product", help="product name")
    p.add_argument("--subscription", type=int, help="subscription id")
    p.add_argument("--node", help="node id")
    p.add_argument("--gateway", help="gateway name")
    p.add_argument("--tag", help="name=value")
    verb(connection, "get", connection_get).add_argument("id")
    p = verb(connection, "close", connection_close, "close one (client 1008, backend 1001)")
    p.add_argument("id")
    p.add_argument("--reason", help='the close reason (default "closed by an administrator")')
    p = verb(connection, "send", connection_send, "send one message to a connection's client")
    p.add_argument("id")
    _message_arguments(p)
    p = verb(connection, "broadcast", connection_broadcast, "send to every matching connection")
    p.add_argument("--api", help="API name")
    p.add_argument("--product", help="product name")
    p.add_argument("--subscription", type=int, help="subscription id")
    p.add_argument("--gateway", help="gateway name")
    p.add_argument("--tag", help="name=value, as set-connection-tag set it")
    _message_arguments(p)
    p = verb(connection, "token", connection_token, "create an API-scoped token (shown once)")
    p.add_argument("--api", required=True, help="the API whose connections it may reach")
    p.add_argument("name", help="what the token is for")
