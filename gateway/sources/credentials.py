"""A broker URL's credentials filled in from the secrets the catalog sent with its API.

The address is what the hub keys broker clients and feeds by: a changed password makes a new
client (and new subscriptions) without touching the ones open. The secrets are kept out of its
repr and never put back into a URL, so nothing that prints an address prints them.
"""

from dataclasses import dataclass, field

from gateway.catalog.broker_credentials import CredentialsProblem, read_credentials


class CredentialsMissing(LookupError):
    """The catalog sent no value for a named value the broker URL refers to."""


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    url: str  # the broker URL without user info: safe to log
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)  # NATS token authentication


def broker_address(url: str, secrets) -> BrokerAddress:
    """The address to open for `url` with `secrets` ((name, value) pairs); CredentialsMissing
    when a value is not there (the gateway then refuses rather than connect without it)."""
    try:
        creds = read_credentials(url)
    except CredentialsProblem as exc:  # the catalog refused it: a row written around the checks
        raise CredentialsMissing("the broker URL's user info is not a named value") from exc
    if not creds.names and creds.username is None:
        return BrokerAddress(url)
    values = dict(secrets)
    missing = [name for name in creds.names if name not in values]
    if missing:
        raise CredentialsMissing(f"no value for named value {missing[0]}")
    return BrokerAddress(
        creds.address,
        username=creds.username,
        password=values[creds.password_name] if creds.password_name else None,
        token=values[creds.token_name] if creds.token_name else None,
    )
