"""The credentials a broker URL may hold: a user name as written and a password (or NATS token)
that is a secret named value's `{{name}}`, never a literal. One reading for both planes.

The control plane refuses any other user info when a publisher saves the URL and sends a node
the values the URL refers to; the node fills them in when it opens the broker
(`gateway.sources.credentials`). The URL itself (shown on pages, in REST answers, exports and
logs) therefore never holds a secret. Messages here never quote what the URL holds.
"""

from dataclasses import dataclass
from urllib.parse import unquote

from gateway.catalog.eventsource import EVENT_SOURCE_KINDS, NATS, backend_kind
from gateway.policies.namedvalues import is_valid_name

EXAMPLES = {
    "redis": "redis://:{{redis-pass}}@host:6379/0 or redis://user:{{redis-pass}}@host:6379/0",
    "nats": "nats://user:{{nats-pass}}@host:4222, or a token: nats://{{nats-token}}@host:4222",
    "mqtt": "mqtt://user:{{mqtt-pass}}@host:1883",
}


class CredentialsProblem(ValueError):
    """User info a broker URL cannot hold; the message tells the publisher what to write."""


@dataclass(frozen=True, slots=True)
class BrokerCredentials:
    """What a broker URL's user info says: a user name as written (percent-decoded), and the
    names of the named values holding the password or the NATS token."""

    address: str  # the URL without its user info: what clients connect to
    username: str | None = None
    password_name: str | None = None
    token_name: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.password_name, self.token_name) if n)


def split_userinfo(url: str) -> tuple[str, str | None]:
    """(the URL without user info, the user info as written or None)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url, None
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    userinfo, at, host = authority.rpartition("@")
    if not at:
        return url, None
    return f"{scheme}://{host}{tail}", userinfo


def _reference(text: str) -> str | None:
    """The name in a whole `{{name}}`, or None when `text` is not one."""
    if text.startswith("{{") and text.endswith("}}") and text.count("{{") == 1:
        return text[2:-2].strip()
    return None


def _secret_needed(kind: str, what: str = "A password in the broker URL") -> str:
    return (
        f"{what} would be shown wherever the URL is: store it as a secret named value and "
        f"write its name instead, e.g. {EXAMPLES[kind]}."
    )


def read_credentials(url: str) -> BrokerCredentials:
    """The credentials of a broker URL, or raise CredentialsProblem (none for a WebSocket URL:
    its own check refuses user info)."""
    kind = backend_kind(url)
    if kind not in EVENT_SOURCE_KINDS:
        return BrokerCredentials(url)
    address, userinfo = split_userinfo(url)
    if userinfo is None:
        return BrokerCredentials(address)
    user, colon, password = userinfo.partition(":")
    if not colon or not password:
        token = _reference(user)
        if token is not None and kind == NATS:
            if not is_valid_name(token):
                raise CredentialsProblem(_bad_name())
            return BrokerCredentials(address, token_name=token)
        if token is not None or "{{" in user:
            raise CredentialsProblem(
                "Write the password after a ':' in the broker URL, e.g. " + EXAMPLES[kind] + "."
            )
        if kind == NATS:
            raise CredentialsProblem(
                _secret_needed(kind, "NATS reads a user name without a password as a token, which")
            )
        return BrokerCredentials(address, username=_user(user, kind) or None)
    name = _reference(password)
    if name is None:
        raise CredentialsProblem(_secret_needed(kind))
    if not is_valid_name(name):
        raise CredentialsProblem(_bad_name())
    return BrokerCredentials(address, username=_user(user, kind) or None, password_name=name)


def _user(user: str, kind: str) -> str:
    if "{{" in user or "}}" in user:
        raise CredentialsProblem(
            "The user name in the broker URL is written as it is; only the password is a "
            "named value, e.g. " + EXAMPLES[kind] + "."
        )
    return unquote(user)


def _bad_name() -> str:
    return (
        "The named value in the broker URL needs a valid name: letters, digits, '.', '-' and "
        "'_' between {{ and }}."
    )


PLACEHOLDER = "{{name}}"


def without_literal_secret(url: str) -> str:
    """`url` with a literal password (or NATS token) replaced by `{{name}}`: what a refused
    form shows back instead of the secret it was sent, and what to write there."""
    try:
        read_credentials(url)
        return url
    except CredentialsProblem:
        pass
    address, userinfo = split_userinfo(url)
    user, colon, password = (userinfo or "").partition(":")
    if colon and password and "{{" not in password:
        kept = f"{user}:{PLACEHOLDER}"
    elif not colon and user and "{{" not in user and backend_kind(url) == NATS:
        kept = PLACEHOLDER
    else:
        return url
    scheme, _, rest = address.partition("://")
    return f"{scheme}://{kept}@{rest}"
