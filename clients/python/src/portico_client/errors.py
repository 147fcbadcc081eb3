"""PorticoError: the one exception the SDK raises, with the HTTP status and the problem JSON."""

import json
from typing import Any


class PorticoError(Exception):
    """An error answer of the management API, or no answer at all.

    `status` is the HTTP status (None when the server could not be reached), `problem` the JSON
    error body (`{"status": 400, "errors": [{"field", "message", "code"}]}`) when there was one.
    `str(error)` reads like `400 backend_url: Enter a ws:// URL.` (what the CLI prints).
    """

    def __init__(
        self, message: str, *, status: int | None = None, problem: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.problem = problem

    @property
    def errors(self) -> list[dict[str, Any]]:
        """The problem's `errors` list (empty when the answer had none)."""
        errors = (self.problem or {}).get("errors")
        return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []

    @classmethod
    def from_answer(cls, status: int, body: bytes) -> "PorticoError":
        """The error for an HTTP error answer: its problem JSON if it has one, else its text."""
        try:
            problem = json.loads(body)
        except ValueError:
            problem = None
        if not isinstance(problem, dict):
            problem = None
        error = cls(f"{status} {body[:200].decode(errors='replace').strip()}", status=status)
        error.problem = problem
        if error.errors:
            parts = [
                f"{e['field']}: {e.get('message', '')}" if e.get("field") else str(e.get("message"))
                for e in error.errors
            ]
            error.args = (f"{status} " + "; ".join(parts),)
        return error

    @classmethod
    def unreachable(cls, base_url: str, reason: object) -> "PorticoError":
        return cls(f"cannot reach {base_url}: {reason}")
