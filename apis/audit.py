"""The audit trail of key reads and rotations: who read or replaced a secret (never the secret)."""

import logging

log = logging.getLogger("portico.audit")


def audit(request, event: str, **fields) -> None:
    """One line: the event, its fields (ids and names only), and the acting user."""
    details = " ".join(f"{name}={value}" for name, value in fields.items())
    log.info(
        "%s: %s by user=%s (id %s)",
        event,
        details,
        request.user.get_username(),
        request.user.pk,
    )
