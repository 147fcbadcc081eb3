"""What the write services share: assigning only a model's editable fields, and the refusal of
a delete that other rows depend on."""

from collections.abc import Iterable


def assign(instance, allowed: Iterable[str], values: dict) -> None:
    """Set `values` on `instance`; a field outside `allowed` is a programming error."""
    unknown = set(values) - set(allowed)
    if unknown:
        raise TypeError(f"unknown field(s) for {type(instance).__name__}: {sorted(unknown)}")
    for field, value in values.items():
        setattr(instance, field, value)


class InUse(Exception):
    """A delete refused because other rows depend on the object (the caller may force it)."""
