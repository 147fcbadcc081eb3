"""The audit trail of key reads and rotations: who read or replaced a secret (never the secret)."""

import logging

log = logging.getLogger("portico.audit")


def audit(request, event: str, **fields) -> None:
    """One line: the event, its fields (ids and names only), and the acting user."""
    audit_by(f"user={request.user.get_username()} (id {request.user.pk})", event, **fields)


def audit_by(actor: str, event: str, **fields) -> None:
    """One line for a change no signed-in user asked for (`actor` says what made it)."""
    details = " ".join(f"{name}={value}" for name, value in fields.items())
    log.info("%s: %s by %s", event, details, actor)
