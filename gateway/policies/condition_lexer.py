"""The parts of `condition="@(...)"` expressions under the parser: tokens, the value rules
(truth, equality, ordering, text), JSON paths into a message, and the message as conditions see it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .errors import PolicyError

Fn = Callable[[Any, Any], Any]  # (HandshakeContext, MessageView | None) -> value


class ConditionError(PolicyError):
    """A condition that cannot be parsed; `column` counts from 1 at the `@` of `@(...)`.

    `quoted` is the condition text the message quotes (it starts at `column`, unless `at` says
    where), so that an error quoting the value of a secret named value can be told apart."""

    def __init__(
        self, message: str, column: int, *, quoted: str = "", at: int | None = None
    ) -> None:
        super().__init__(f"column {column}: {message}")
        self.column = column
        self.condition_message = message
        start = column if at is None else at
        self.span = (start, start + len(quoted)) if quoted else (0, 0)


class MessageView:
    """One message as conditions see it; the JSON parse happens once, on first use."""

    __slots__ = ("payload", "size", "_json")
    _UNSET: Any = object()

    def __init__(self, payload: Any, size: int) -> None:
        self.payload = payload
        self.size = size
        self._json = MessageView._UNSET

    @property
    def text(self) -> str:
        return self.payload if type(self.payload) is str else ""

    @property
    def is_binary(self) -> bool:
        return type(self.payload) is not str

    def json(self) -> Any:
        if self._json is MessageView._UNSET:
            try:
                self._json = json.loads(self.payload) if type(self.payload) is str else None
            except ValueError:
                self._json = None
        return self._json


# --- tokens ---------------------------------------------------------------------------------

_PUNCT = ("==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "(", ")", ".", ",", "[", "]", "+")


class _Tok:
    __slots__ = ("kind", "text", "value", "pos")

    def __init__(self, kind: str, text: str, value: Any, pos: int) -> None:
        self.kind, self.text, self.value, self.pos = kind, text, value, pos


def _tokenize(src: str, base: int) -> list[_Tok]:
    out: list[_Tok] = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c.isspace():
            i += 1
            continue
        if c == '"':
            j, buf = i + 1, []
            while j < n and src[j] != '"':
                if src[j] == "\\":
                    if j + 1 >= n:
                        break
                    esc = src[j + 1]
                    buf.append({"n": "\n", "t": "\t", "r": "\r", "0": "\0"}.get(esc, esc))
                    j += 2
                    continue
                buf.append(src[j])
                j += 1
            if j >= n:
                raise ConditionError("unterminated string", base + i)
            out.append(_Tok("str", src[i : j + 1], "".join(buf), base + i))
            i = j + 1
            continue
        if c.isdigit():
            j = i
            while j < n and src[j].isdigit():
                j += 1
            out.append(_Tok("int", src[i:j], int(src[i:j]), base + i))
            i = j
            continue
        if c.isalpha() or c == "_":
            j = i
            while j < n and (src[j].isalnum() or src[j] == "_"):
                j += 1
            out.append(_Tok("name", src[i:j], src[i:j], base + i))
            i = j
            continue
        for p in _PUNCT:
            if src.startswith(p, i):
                out.append(_Tok("op", p, p, base + i))
                i += len(p)
                break
        else:
            raise ConditionError(f"unexpected character {c!r}", base + i, quoted=c)
    out.append(_Tok("end", "", None, base + n))
    return out


# --- typed nodes ----------------------------------------------------------------------------

# Types known at save time: "bool", "str", "int", "jwt", "any" (unknown until run time).


class _Node:
    __slots__ = ("fn", "type", "pos")

    def __init__(self, fn: Fn, type_: str, pos: int) -> None:
        self.fn, self.type, self.pos = fn, type_, pos


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(_text(v) for v in value)
    return str(value)


def _truth(value: Any) -> bool:
    return value is True


def _num(value: Any) -> Any:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def _equal(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    if type(a) is type(b):
        return a == b
    na, nb = _num(a), _num(b)
    if na is not None and nb is not None:
        return na == nb
    return _text(a) == _text(b)


_ORDER = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _compare(op: str, a: Any, b: Any) -> bool:
    """Numbers compare as numbers (numeric text counts); two strings compare ordinally."""
    na, nb = _num(a), _num(b)
    if na is not None and nb is not None:
        return _ORDER[op](na, nb)
    if isinstance(a, str) and isinstance(b, str):
        return _ORDER[op](a, b)
    return False


def _claims(token: Any) -> dict:
    return getattr(token, "claims", None) or {}


def _json_path(tok: _Tok) -> tuple[str | int, ...]:
    """`"user.role"` or `"items.0.id"`: dot-separated keys; all-digit parts index arrays."""
    path = tok.value
    if path.startswith("$."):
        path = path[2:]
    parts = path.split(".") if path else []
    if any(p == "" for p in parts):
        raise ConditionError('Json takes a path such as "user.role" or "items.0.id"', tok.pos)
    return tuple(int(p) if p.isdigit() else p for p in parts)


def _walk(value: Any, steps: tuple[str | int, ...]) -> Any:
    for step in steps:
        if isinstance(step, int) and isinstance(value, list):
            value = value[step] if step < len(value) else None
        elif isinstance(value, dict):
            value = value.get(str(step))
        else:
            return None
    return value
