"""Connect tickets: short-lived, single-use signed tokens a browser presents instead of a key.

A ticket is `ct1.<payload>.<signature>`: the payload (base64url JSON) names the subscription,
the API, an optional allowed Origin, the expiry (Unix seconds) and a random nonce; the signature
is HMAC-SHA256 under a key derived from the gateway's key-hash secret, which every node of that
gateway already holds. So any node checks a ticket with no database or network call; only the
"first use" mark (single use, see gateway.handshake.tickets) goes to the shared counter store.
"""

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

PREFIX = "ct1."
QUERY_PARAM = "ticket"  # ?ticket=… in place of the subscription key
MAX_LIFETIME_SECONDS = 60
# Domain separation: the ticket key never equals the key that hashes subscription keys.
_CONTEXT = b"portico connect ticket v1"


@dataclass(frozen=True, slots=True)
class Ticket:
    """What a valid ticket grants: one handshake to `api_id` for `subscription_id`."""

    subscription_id: int
    api_id: int
    origin: str  # "" when any Origin may use it
    expires_at: int  # Unix seconds
    nonce: str


class TicketError(Exception):
    """A ticket that is malformed, tampered with, signed by another gateway, or expired."""


def _signing_key(key_hash_secret: str | bytes) -> bytes:
    secret = key_hash_secret.encode() if isinstance(key_hash_secret, str) else key_hash_secret
    return hmac.new(secret, _CONTEXT, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint(
    key_hash_secret: str | bytes,
    *,
    subscription_id: int,
    api_id: int,
    origin: str = "",
    lifetime: float = MAX_LIFETIME_SECONDS,
    now: float | None = None,
) -> tuple[str, Ticket]:
    """A new ticket string and what it grants; the lifetime is capped at 60 s."""
    lifetime = max(1, min(int(lifetime), MAX_LIFETIME_SECONDS))
    issued = int(time.time() if now is None else now)
    ticket = Ticket(subscription_id, api_id, origin, issued + lifetime, secrets.token_urlsafe(16))
    payload = json.dumps(
        {"s": subscription_id, "a": api_id, "o": origin, "e": ticket.expires_at, "n": ticket.nonce},
        separators=(",", ":"),
    ).encode()
    body = _b64(payload)
    signature = hmac.new(_signing_key(key_hash_secret), body.encode(), hashlib.sha256).digest()
    return f"{PREFIX}{body}.{_b64(signature)}", ticket


def verify(key_hash_secret: str | bytes, text: str, *, now: float | None = None) -> Ticket:
    """The ticket `text` grants, or TicketError saying why not (signature compared in constant
    time before anything in the payload is believed)."""
    if not text.startswith(PREFIX):
        raise TicketError("malformed ticket")
    body, dot, signature = text[len(PREFIX) :].partition(".")
    if not dot or not body or not signature:
        raise TicketError("malformed ticket")
    expected = hmac.new(_signing_key(key_hash_secret), body.encode(), hashlib.sha256).digest()
    try:
        given = _unb64(signature)
    except ValueError:
        raise TicketError("malformed ticket") from None
    if not hmac.compare_digest(expected, given):
        raise TicketError("ticket signature does not match (tampered, or for another gateway)")
    try:
        data = json.loads(_unb64(body))
        ticket = Ticket(int(data["s"]), int(data["a"]), str(data["o"]), int(data["e"]), data["n"])
    except (ValueError, KeyError, TypeError):
        raise TicketError("malformed ticket") from None
    if ticket.expires_at <= (time.time() if now is None else now):
        raise TicketError("ticket expired")
    return ticket
