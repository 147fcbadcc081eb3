"""`portico certificate …` and `portico gateway hostnames …`: certificates in the catalog and the
host names that serve them, from the command line (a key or a PFX password is never printed)."""

import base64
import os
import urllib.parse

from apis.cli.client import Client, CliError
from apis.cli.output import emit

CERTIFICATE_COLUMNS = ["name", "subject", "thumbprint", "not_after", "expiry", "has_private_key"]
CLIENT_FLAG = "+client"


def _path(name: str) -> str:
    return f"certificates/{urllib.parse.quote(name, safe='')}/"


def _read(path: str, mode: str = "r"):
    try:
        with open(path, mode) as handle:
            return handle.read()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None


def _upload_body(args) -> dict:
    if bool(args.pem) == bool(args.pfx):
        raise CliError("give --pem FILE (chain and key) or --pfx FILE")
    if args.pem:
        return {"pem": _read(args.pem)}
    password = os.environ.get(args.password_env, "") if args.password_env else ""
    return {"pfx": base64.b64encode(_read(args.pfx, "rb")).decode(), "password": password}


def certificate_list(c: Client, args):
    emit(c.list("certificates/"), as_json=args.json, columns=CERTIFICATE_COLUMNS)


def certificate_get(c: Client, args):
    emit(c.get(_path(args.name)), as_json=args.json)


def certificate_upload(c: Client, args):
    """Upload a new certificate, or replace one (rotation) with its ETag as If-Match."""
    body = _upload_body(args)
    try:
        current = c.call("GET", _path(args.name))
    except CliError as exc:
        if not str(exc).startswith("404 "):
            raise
        current = None
    if current is None:
        data = c.call("POST", "certificates/", {"name": args.name, **body}).data
    else:
        data = c.call("PATCH", _path(args.name), body, if_match=current.etag).data
    emit(data, as_json=args.json)


def certificate_delete(c: Client, args):
    c.call("DELETE", _path(args.name))
    print(f"deleted certificate {args.name}")


def gateway_hostnames(c: Client, args):
    """Set a gateway's host names: HOST[=CERTIFICATE][+client] each (none: remove them all)."""
    entries = []
    for spec in args.hostname:
        flag = spec.endswith(CLIENT_FLAG)
        spec = spec.removesuffix(CLIENT_FLAG)
        host, _, certificate = spec.partition("=")
        entries.append(
            {
                "hostname": host,
                "certificate": certificate or None,
                "negotiate_client_certificate": flag,
            }
        )
    gateway = urllib.parse.quote(args.name, safe="")
    current = c.call("GET", f"gateways/{gateway}/")
    body = {"hostnames": entries}
    data = c.call("PATCH", f"gateways/{gateway}/", body, if_match=current.etag).data
    emit(data["hostnames"], as_json=args.json, columns=["hostname", "certificate"])


def add_parsers(verbs, verb) -> None:
    cert = verbs("certificate", "certificates (keys never printed)")
    verb(cert, "list", certificate_list)
    verb(cert, "get", certificate_get).add_argument("name")
    p = verb(cert, "upload", certificate_upload, "upload or replace (rotate) a certificate")
    p.add_argument("name")
    p.add_argument("--pem", help="PEM file: the chain, leaf first, and its private key")
    p.add_argument("--pfx", help="PKCS#12 file")
    p.add_argument("--password-env", help="environment variable holding the PFX password")
    verb(cert, "delete", certificate_delete).add_argument("name")


def add_hostnames_parser(gateway_verbs, verb) -> None:
    p = verb(gateway_verbs, "hostnames", gateway_hostnames, "replace a gateway's host names")
    p.add_argument("name", help="the gateway")
    p.add_argument(
        "hostname",
        nargs="*",
        help=f"HOST[=CERTIFICATE][{CLIENT_FLAG}], e.g. api.example.com=api-cert (none: remove all)",
    )
