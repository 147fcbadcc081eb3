"""The base of every model: a typed dataclass built from a JSON answer, keeping the JSON too."""

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self

EXTRA_FIELDS = ("raw", "etag")


@dataclasses.dataclass
class Model:
    """`raw` is the object exactly as the server sent it (fields this SDK version does not know
    included); `etag` the answer's ETag, for an update guarded with `if_match`."""

    raw: dict[str, Any] = dataclasses.field(
        default_factory=dict, repr=False, compare=False, kw_only=True
    )
    etag: str | None = dataclasses.field(default=None, repr=False, compare=False, kw_only=True)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], etag: str | None = None) -> Self:
        hints = _hints(cls)
        values = {
            f.name: _convert(hints[f.name], data.get(f.name))
            for f in dataclasses.fields(cls)
            if f.name not in EXTRA_FIELDS
        }
        return cls(**values, raw=dict(data), etag=etag)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """The resolved field types of a model class (resolved once: get_type_hints is slow)."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _convert(hint: Any, value: Any) -> Any:
    """A JSON value as the field's type: datetimes parsed, nested models built, lists mapped."""
    if value is None:
        return _empty(hint)
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _convert(options[0], value) if len(options) == 1 else value
    if hint is datetime and isinstance(value, str):
        return datetime.fromisoformat(value)
    if isinstance(hint, type) and issubclass(hint, Model) and isinstance(value, Mapping):
        return hint.from_json(value)
    if origin is list and isinstance(value, list):
        [item] = typing.get_args(hint) or (Any,)
        return [_convert(item, v) for v in value]
    if origin is dict and isinstance(value, list):  # tags may come as ["name=value", ...]
        return dict(str(v).partition("=")[::2] for v in value)
    return value


def _empty(hint: Any) -> Any:
    """A missing list or mapping reads as empty; anything else as None."""
    origin = typing.get_origin(hint)
    if origin is list:
        return []
    if origin is dict:
        return {}
    return None
