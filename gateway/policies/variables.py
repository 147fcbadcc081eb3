"""set-variable: store a value in context.Variables for later expressions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar
from xml.etree.ElementTree import Element

from .context import HandshakeContext, Refusal
from .expressions import Value, evaluate, value_to_text
from .model import Attrs, Policy, Step, children
from .xmlnode import Node

if TYPE_CHECKING:
    from .runtime import PolicyRuntime


@dataclass(frozen=True, kw_only=True)
class SetVariable(Policy):
    """Store a value in `context.Variables[name]` for later expressions."""

    tag: ClassVar[str] = "set-variable"
    name: str
    value: Value

    @classmethod
    def parse(cls, node: Node) -> SetVariable:
        a = Attrs(node)
        name = a.text("name", required=True) or ""
        value = a.value("value", required=True)
        a.done()
        children(node, ())
        return cls(name=name, value=value, line=node.line)

    def to_element(self) -> Element:
        return Element(self.tag, {"name": self.name, "value": value_to_text(self.value)})

    def compile(self, runtime: PolicyRuntime) -> Step:
        name, value = self.name, self.value

        async def step(ctx: HandshakeContext) -> Refusal | None:
            ctx.variables[name] = evaluate(value, ctx)
            return None

        return step
