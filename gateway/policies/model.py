"""The base types every policy shares, and the attribute reader their parsers use."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Self
from xml.etree.ElementTree import Element, SubElement

from .expressions import Value, parse_value, value_to_text
from .xmlnode import Node

if TYPE_CHECKING:
    from .context import HandshakeContext, Refusal
    from .runtime import PolicyRuntime

Step = Callable[["HandshakeContext"], Awaitable["Refusal | None"]]


@dataclass(frozen=True, kw_only=True)
class Policy:
    """One policy element. `line` is where it was read; it takes no part in equality."""

    tag: ClassVar[str] = ""
    line: int = field(default=0, compare=False, repr=False)

    @classmethod
    def parse(cls, node: Node) -> Policy:  # pragma: no cover - overridden
        raise NotImplementedError

    def to_element(self) -> Element:  # pragma: no cover - overridden
        raise NotImplementedError

    def compile(self, runtime: PolicyRuntime) -> Step:  # pragma: no cover - overridden
        raise NotImplementedError

    def in_scope(self, scope: str) -> Policy:
        """This policy as read from a document of `scope`; counters use it to pick their key."""
        return self


@dataclass(frozen=True, kw_only=True)
class Base(Policy):
    """`<base />`: the parent scope's policies go here."""

    tag: ClassVar[str] = "base"

    def to_element(self) -> Element:
        return Element("base")


@dataclass(frozen=True, kw_only=True)
class NameValuePolicy(Policy):
    """`<tag name="…" value="…" />`, no children (set-variable, set-connection-tag); a kind
    refuses the names or values it cannot take in `check`."""

    name: str
    value: Value

    @classmethod
    def parse(cls, node: Node) -> Self:
        a = Attrs(node)
        name = a.text("name", required=True) or ""
        value = a.value("value", required=True)
        a.done()
        children(node, ())
        cls.check(node, name, value)
        return cls(name=name, value=value, line=node.line)

    @classmethod
    def check(cls, node: Node, name: str, value: Value) -> None:
        """Raise PolicyError for a name or value this kind refuses (any is fine by default)."""

    def to_element(self) -> Element:
        return Element(self.tag, {"name": self.name, "value": value_to_text(self.value)})


class Attrs:
    """Reads a node's attributes with typed checks; `done()` refuses any attribute not read."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.seen: set[str] = set()

    def _raw(self, name: str) -> str | None:
        self.seen.add(name)
        return self.node.attrib.get(name)

    def text(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        raw = self._raw(name)
        if raw is None or raw.strip() == "":
            if required:
                raise self.node.error("is required", name)
            return default
        return raw.strip()

    def value(self, name: str, *, required: bool = False) -> Value | None:
        raw = self.text(name, required=required)
        return None if raw is None else parse_value(raw, node=self.node, attribute=name)

    def integer(
        self, name: str, default: int | None = None, *, required: bool = False, minimum: int = 1
    ) -> int | None:
        raw = self.text(name, required=required)
        if raw is None:
            return default
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        try:
            value = int(raw, 10)
        except ValueError:
            raise self.node.error(f"must be {what}", name) from None
        if value < minimum:
            raise self.node.error(f"must be {what}", name)
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.text(name)
        if raw is None:
            return default
        if raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise self.node.error('must be "true" or "false"', name)

    def choice(self, name: str, options: tuple[str, ...], default: str | None = None) -> str:
        raw = self.text(name, default, required=default is None)
        assert raw is not None
        if raw not in options:
            raise self.node.error("must be one of " + ", ".join(options), name)
        return raw

    def done(self) -> None:
        for name in self.node.attrib:
            if name not in self.seen:
                raise self.node.error("unknown or unsupported attribute", name)


def children(node: Node, allowed: tuple[str, ...]) -> list[Node]:
    """The node's child elements, refusing any whose tag is not in `allowed`."""
    for child in node.children:
        if child.tag not in allowed:
            if allowed:
                expected = "expected " + ", ".join(f"<{a}>" for a in allowed)
            else:
                expected = "no child elements are allowed"
            raise child.error(f"unexpected element inside <{node.tag}>; {expected}")
    return node.children


def value_children(node: Node, tag: str = "value") -> tuple[Value, ...]:
    """Parse `<value>` children (text literal or expression) of `node`."""
    out: list[Value] = []
    for child in children(node, (tag,)):
        Attrs(child).done()
        children(child, ())
        out.append(parse_value(child.text, node=child))
    return tuple(out)


def set_attr(el: Element, name: str, value: object) -> None:
    """Set an attribute on an output element, formatting bools/ints/values the XML way."""
    if value is None:
        return
    if isinstance(value, bool):
        el.set(name, "true" if value else "false")
    elif isinstance(value, int):
        el.set(name, str(value))
    elif isinstance(value, str):
        el.set(name, value)
    else:
        el.set(name, value_to_text(value))  # type: ignore[arg-type]


def set_value_attr(el: Element, name: str, value: Value | None) -> None:
    """Set an attribute holding a literal-or-expression value (escaping a literal leading @)."""
    if value is not None:
        el.set(name, value_to_text(value))


def add_values(el: Element, values: tuple[Value, ...], tag: str = "value") -> None:
    for v in values:
        SubElement(el, tag).text = value_to_text(v)
