"""`portico certificate …` and `portico gateway hostnames …`: certificates in the catalog and the
host names that serve them, from the command line (a key or a PFX password is never printed)."""

import base64
import os

from apis.cli.client import Client, CliError
from apis.cli.commands import PAGE, raws
from apis.cli.output import emit
from portico_client import PorticoError

CERTIFICATE_COLUMNS = ["name", "subject", "thumbprint", "not_after", "expiry", "has_private_key"]
CLIENT_FLAG = "+client"


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
    rows = raws(c.certificates.list(page_size=PAGE))
    emit(rows, as_json=args.json, columns=CERTIFICATE_COLUMNS)


def certificate_get(c: Client, args):
    emit(c.certificates.get(args.name).raw, as_json=args.json)


def certificate_upload(c: Client, args):
    """Upload a new certificate, or replace one (rotation) with its ETag as If-Match."""
    body = _upload_body(args)
    try:
        current = c.certificates.get(args.name)
    except PorticoError as exc:
        if exc.status != 404:
            raise
        current = None
    if current is None:
        saved = c.certificates.create(name=args.name, **body)
    else:
        saved = c.certificates.update(args.name, if_match=current.etag, **body)
    emit(saved.raw, as_json=args.json)


def certificate_delete(c: Client, args):
    c.certificates.delete(args.name)
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
    current = c.gateways.get(args.name)
    saved = c.gateways.update(args.name, if_match=current.etag, hostnames=entries)
    emit(saved.raw["hostnames"], as_json=args.json, columns=["hostname", "certificate"])


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
