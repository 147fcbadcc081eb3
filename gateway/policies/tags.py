"""set-connection-tag: tag the connection name=value (live list, filters, broadcasts)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from .context import HandshakeContext, Refusal
from .errors import PolicyError
from .expressions import Expr, Value, evaluate
from .model import NameValuePolicy, Step
from .xmlnode import Node

if TYPE_CHECKING:
    from .runtime import PolicyRuntime

MAX_TAGS = 8  # per connection: later tags with new names are ignored (the first eight stay)
MAX_VALUE_CHARS = 100
TAG_NAME = re.compile(r"[A-Za-z0-9_.-]{1,40}")


@dataclass(frozen=True, kw_only=True)
class SetConnectionTag(NameValuePolicy):
    """Set `context.connection_tags[name]` to the value (text or expression), cut to 100 chars."""

    tag: ClassVar[str] = "set-connection-tag"

    @classmethod
    def check(cls, node: Node, name: str, value: Value) -> None:
        if isinstance(value, Expr) and value.kind == "subscription.key":
            # Tags are listed to publishers and in the API: never a key.
            raise PolicyError(
                "a tag cannot hold the subscription key",
                line=node.line,
                element=cls.tag,
                attribute="value",
            )
        if not TAG_NAME.fullmatch(name):
            raise PolicyError(
                "a tag name is 1 to 40 letters, digits, '_', '.' or '-'",
                line=node.line,
                element=cls.tag,
                attribute="name",
            )

    def compile(self, runtime: PolicyRuntime) -> Step:
        name, value = self.name, self.value

        async def step(ctx: HandshakeContext) -> Refusal | None:
            tags = ctx.connection_tags
            if name in tags or len(tags) < MAX_TAGS:
                result = evaluate(value, ctx)
                tags[name] = ("" if result is None else str(result))[:MAX_VALUE_CHARS]
            return None

        return step
