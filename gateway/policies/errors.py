"""The one exception the policy library raises for a document it cannot accept."""

from __future__ import annotations


class PolicyError(ValueError):
    """A policy document that cannot be parsed or validated, located by line and element."""

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        element: str | None = None,
        attribute: str | None = None,
    ) -> None:
        self.message = message
        self.line = line
        self.element = element
        self.attribute = attribute
        super().__init__(str(self))

    def __str__(self) -> str:
        parts: list[str] = []
        if self.line:
            parts.append(f"line {self.line}")
        if self.element and self.attribute:
            parts.append(f'<{self.element}> attribute "{self.attribute}"')
        elif self.element:
            parts.append(f"<{self.element}>")
        parts.append(self.message)
        return ": ".join(parts)
