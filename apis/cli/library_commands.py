"""`portico named-value …` and `portico fragment …`: what policies share, from the command line."""

import sys

from apis.cli.client import Client, CliError
from apis.cli.commands import PAGE, raws
from apis.cli.output import emit
from portico_client import PorticoError

NAMED_VALUE_COLUMNS = ["name", "secret", "value", "used_by"]
FRAGMENT_COLUMNS = ["name", "description", "used_by"]


def _exists(resource, name: str):
    try:
        return resource.get(name)
    except PorticoError as exc:
        if exc.status == 404:
            return None
        raise


def _read_value(source: str) -> str:
    """A value from a file, or from stdin with `-` (keeps a secret out of shell history)."""
    if source == "-":
        return sys.stdin.read().rstrip("\n")
    try:
        with open(source) as handle:
            return handle.read().rstrip("\n")
    except OSError as exc:
        raise CliError(f"cannot read {source}: {exc.strerror}") from None


def named_value_list(c: Client, args):
    rows = raws(c.named_values.list(page_size=PAGE))
    emit(rows, as_json=args.json, columns=NAMED_VALUE_COLUMNS)


def _upsert(resource, name: str, body: dict) -> dict:
    """Create a new item, or update the existing one with its ETag as If-Match."""
    current = _exists(resource, name)
    if current is None:
        return resource.create(name=name, **body).raw
    return resource.update(name, if_match=current.etag, **body).raw


def named_value_get(c: Client, args):
    emit(c.named_values.get(args.name).raw, as_json=args.json)


def named_value_set(c: Client, args):
    """Create or update; a secret's value is sent only when given (otherwise it is kept)."""
    body: dict = {}
    if args.value is not None:
        body["value"] = args.value
    elif args.value_file is not None:
        body["value"] = _read_value(args.value_file)
    if args.secret is not None:
        body["secret"] = args.secret
    if args.description is not None:
        body["description"] = args.description
    emit(_upsert(c.named_values, args.name, body), as_json=args.json)


def named_value_delete(c: Client, args):
    c.named_values.delete(args.name)
    emit({"deleted": args.name}, as_json=args.json)


def fragment_list(c: Client, args):
    rows = raws(c.policy_fragments.list(page_size=PAGE))
    emit(rows, as_json=args.json, columns=FRAGMENT_COLUMNS)


def fragment_get(c: Client, args):
    data = c.policy_fragments.get(args.name).raw
    if args.json:
        emit(data, as_json=True)
    else:
        print(data["xml"])


def fragment_set(c: Client, args):
    body: dict = {"xml": _read_value(args.file)}
    if args.description is not None:
        body["description"] = args.description
    emit(_upsert(c.policy_fragments, args.name, body), as_json=args.json)


def fragment_delete(c: Client, args):
    c.policy_fragments.delete(args.name)
    emit({"deleted": args.name}, as_json=args.json)


def add_parsers(verbs, verb) -> None:
    """Register both groups on the `portico` parser (see apis.cli.main)."""
    named = verbs("named-value", "named values ({{name}} in policies)")
    verb(named, "list", named_value_list)
    verb(named, "get", named_value_get).add_argument("name")
    p = verb(named, "set", named_value_set, "create or update (a secret is never printed)")
    p.add_argument("name")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--value")
    source.add_argument("--value-file", metavar="FILE", help="read the value; - for stdin")
    secret = p.add_mutually_exclusive_group()
    secret.add_argument("--secret", action="store_true", default=None)
    secret.add_argument("--plain", dest="secret", action="store_false")
    p.add_argument("--description")
    verb(named, "delete", named_value_delete).add_argument("name")

    fragment = verbs("fragment", "policy fragments (<include-fragment fragment-id=…/>)")
    verb(fragment, "list", fragment_list)
    verb(fragment, "get", fragment_get).add_argument("name")
    p = verb(fragment, "set", fragment_set, "create or update from a <fragment> file")
    p.add_argument("name")
    p.add_argument("--file", "-f", required=True, help="the <fragment> XML, or - for stdin")
    p.add_argument("--description")
    verb(fragment, "delete", fragment_delete).add_argument("name")
