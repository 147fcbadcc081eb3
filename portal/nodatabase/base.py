"""Django's dummy backend with a message that says why: a self-hosted node has no database.

Any query, connection or commit raises at once, so code that reaches for the database on a node
fails loudly in tests instead of quietly needing credentials in production. Closing and rolling
back stay no-ops (Django closes connections after every request)."""

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.dummy import base as dummy

MESSAGE = (
    "This is a self-hosted gateway node (PORTICO_CONTROL_URL is set): it has no database and "
    "takes its configuration from the control plane, yet something tried to use the database."
)


def complain(*args, **kwargs):
    raise ImproperlyConfigured(MESSAGE)


class DatabaseOperations(dummy.DatabaseOperations):
    quote_name = complain


class DatabaseWrapper(dummy.DatabaseWrapper):
    _cursor = complain
    ensure_connection = complain
    _commit = complain
    _savepoint_commit = complain
    _set_autocommit = complain
    ops_class = DatabaseOperations
