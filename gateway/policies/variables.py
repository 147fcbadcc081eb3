"""set-variable: store a value in context.Variables for later expressions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from .context import HandshakeContext, Refusal
from .expressions import evaluate
from .model import NameValuePolicy, Step

if TYPE_CHECKING:
    from .runtime import PolicyRuntime


@dataclass(frozen=True, kw_only=True)
class SetVariable(NameValuePolicy):
    """Store a value in `context.Variables[name]` for later expressions."""

    tag: ClassVar[str] = "set-variable"

    def compile(self, runtime: PolicyRuntime) -> Step:
        name, value = self.name, self.value

        async def step(ctx: HandshakeContext) -> Refusal | None:
            ctx.variables[name] = evaluate(value, ctx)
            return None

        return step
