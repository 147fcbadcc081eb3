"""The management API's audit trail: the shared helper in apis.audit (pages use it too)."""

from apis.audit import audit

__all__ = ["audit"]
