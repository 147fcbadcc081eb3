"""What the gateway hands the policies for one handshake, and what the policies hand back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

HeaderAction = Literal["set", "append", "delete"]


def _date_text(value) -> str:
    return value.isoformat() if value is not None else ""


# context.Request.Certificate's members as text, read from a clientcert.ClientCertificate.
CERTIFICATE_MEMBERS: dict[str, Callable[[Any], str]] = {
    "Subject": lambda c: c.subject,
    "Issuer": lambda c: c.issuer,
    "Thumbprint": lambda c: c.thumbprint,
    "SerialNumber": lambda c: c.serial_number,
    "NotBefore": lambda c: _date_text(c.not_before),
    "NotAfter": lambda c: _date_text(c.not_after),
    "CommonName": lambda c: c.common_name,
}


@dataclass(frozen=True, slots=True)
class Refusal:
    """Answer the handshake with this HTTP status instead of connecting to the backend.

    `body` is set only by return-response (the publisher's own body, sent verbatim); otherwise
    the gateway renders `message` as its short JSON error body.
    """

    status: int
    message: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    detail: str = ""  # for the gateway's log only, never sent to the client


@dataclass(frozen=True, slots=True)
class Change:
    """One change to the backend handshake's headers or query: set (replace), append, delete."""

    action: HeaderAction
    name: str
    values: tuple[str, ...] = ()


@dataclass
class HandshakeContext:
    """One client handshake as the gateway saw it, plus the outputs the policies produce.

    `headers` and `query` are (name, value) pairs as received (str, header names compared
    case-insensitively). Policies append to `backend_headers` / `backend_query` (apply them with
    `apply_changes`), may set `backend_url`, fill `variables`, and register `release_callbacks`
    the gateway must run (once, via `release()`) when the connection ends or is refused.
    """

    api_id: str = ""
    api_name: str = ""
    product_names: list[str] = field(default_factory=list)
    product_id: str | None = None  # the subscription's product, whose policy is running
    subscription_id: str | None = None
    subscription_name: str | None = None
    subscription_key: str | None = None
    user_id: str | None = None
    user_email: str | None = None  # sent to nodes only for policies that read it
    peer_ip: str = ""
    host: str = ""  # the host name the client asked for (Host header, no port, lower case)
    # The client's TLS certificate (a clientcert.ClientCertificate; None: none presented), the
    # catalog's CA certificates and CRLs that validate-client-certificate checks it against.
    client_certificate: Any = None
    client_cas: tuple = ()
    client_crls: tuple = ()
    # The catalog certificate authentication-certificate presents to the backend (its name).
    backend_certificate: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    # The headers the backend gets before the policies change them (None: all of `headers`);
    # set-header's "skip" looks here, since some client headers are never forwarded.
    forwarded_headers: list[tuple[str, str]] | None = None
    query: list[tuple[str, str]] = field(default_factory=list)
    client_ip: str | None = None  # filled by the pipeline (trusted X-Forwarded-For) if None
    region: str = ""  # filled by the pipeline from the runtime if empty
    backend_headers: list[Change] = field(default_factory=list)
    backend_query: list[Change] = field(default_factory=list)
    backend_url: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    connection_tags: dict[str, str] = field(default_factory=dict)  # set-connection-tag's
    release_callbacks: list[Callable[[], None]] = field(default_factory=list)
    # A traced handshake's list of (policy element, Refusal or None), one per policy run.
    decisions: list | None = None
    _header_map: dict[str, list[str]] | None = field(default=None, repr=False, compare=False)

    def header_values(self, name: str) -> list[str]:
        """All values of request header `name` (case-insensitive), in received order."""
        if self._header_map is None:
            m: dict[str, list[str]] = {}
            for k, v in self.headers:
                m.setdefault(k.lower(), []).append(v)
            self._header_map = m
        return self._header_map.get(name.lower(), [])

    def header(self, name: str, default: str = "") -> str:
        values = self.header_values(name)
        return ",".join(values) if values else default

    def query_values(self, name: str) -> list[str]:
        return [v for k, v in self.query if k == name]

    def release(self) -> None:
        """Run and forget every release callback (idempotent; errors in one do not stop others)."""
        callbacks, self.release_callbacks = self.release_callbacks, []
        for cb in reversed(callbacks):
            try:
                cb()
            except Exception:  # noqa: BLE001, S112 - releasing must never fail the caller
                continue


def apply_changes(
    pairs: list[tuple[str, str]], changes: list[Change], *, case_insensitive: bool = True
) -> list[tuple[str, str]]:
    """Apply `changes` in order to (name, value) pairs and return the new list."""
    out = list(pairs)

    def same(a: str, b: str) -> bool:
        return a.lower() == b.lower() if case_insensitive else a == b

    for ch in changes:
        if ch.action in ("set", "delete"):
            out = [(k, v) for k, v in out if not same(k, ch.name)]
        if ch.action in ("set", "append"):
            out.extend((ch.name, v) for v in ch.values)
    return out
