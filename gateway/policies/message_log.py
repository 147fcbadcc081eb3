"""log-messages: keep a sample of a connection's messages (truncated, secret paths redacted) for
its connection log. Sampling and the copy happen in the relay's task; nothing is logged per
message, and each connection keeps at most `MAX_SAMPLES`."""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from typing import Any, ClassVar
from xml.etree.ElementTree import Element, SubElement

from .messages import MessagePolicy
from .model import Attrs, children, set_attr
from .xmlnode import Node

MAX_SAMPLES = 20  # per connection, both directions together
MAX_BYTES = 4096
REDACTED = "[redacted]"


def _parse_path(node: Node, raw: str) -> tuple[str, ...]:
    """`$.a.b`, `$.items[*].token`, `$.*.secret` -> ("a", "b") / ("items", "*", "token") ..."""
    if not raw.startswith("$.") or len(raw) < 3:
        raise node.error('must be a JSON path such as "$.token" or "$.items[*].secret"', "path")
    parts: list[str] = []
    for part in raw[2:].replace("[*]", ".*").split("."):
        if not part:
            raise node.error(f"has an empty step in {raw!r}", "path", reason="has an empty step")
        parts.append(part)
    return tuple(parts)


def _redact(doc: Any, path: tuple[str, ...]) -> None:
    if not path:
        return
    head, rest = path[0], path[1:]
    if isinstance(doc, dict):
        keys = list(doc) if head == "*" else [head] if head in doc else []
        for key in keys:
            if rest:
                _redact(doc[key], rest)
            else:
                doc[key] = REDACTED
    elif isinstance(doc, list) and head == "*":
        for i, item in enumerate(doc):
            if rest:
                _redact(item, rest)
            else:
                doc[i] = REDACTED


def _cut(text: str, max_bytes: int) -> str:
    data = text.encode()
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode(errors="ignore") + "…"


@dataclass(frozen=True, kw_only=True)
class LogMessages(MessagePolicy):
    """Keep `sampling_percentage` % of the messages, cut to `max_bytes`, with `<redact path>`s
    replaced by "[redacted]" (a text message that is not JSON is then not shown at all)."""

    tag: ClassVar[str] = "log-messages"
    sampling_percentage: float = 100.0
    max_bytes: int = 256
    redact: tuple[str, ...] = ()

    @classmethod
    def parse(cls, node: Node) -> LogMessages:
        a = Attrs(node)
        raw = a.text("sampling-percentage", "100")
        try:
            pct = float(raw or "")
        except ValueError:
            pct = -1.0
        if not 0 < pct <= 100:
            raise node.error("must be a number above 0 and at most 100", "sampling-percentage")
        max_bytes = a.integer("max-bytes", 256)
        assert max_bytes is not None
        if max_bytes > MAX_BYTES:
            raise node.error(f"must be at most {MAX_BYTES}", "max-bytes")
        a.done()
        paths = []
        for child in children(node, ("redact",)):
            ca = Attrs(child)
            path = ca.text("path", required=True)
            ca.done()
            children(child, ())
            assert path is not None
            _parse_path(child, path)
            paths.append(path)
        return cls(
            sampling_percentage=pct, max_bytes=max_bytes, redact=tuple(paths), line=node.line
        )

    def to_element(self) -> Element:
        el = Element(self.tag)
        pct = self.sampling_percentage
        set_attr(el, "sampling-percentage", str(int(pct)) if pct == int(pct) else str(pct))
        set_attr(el, "max-bytes", self.max_bytes)
        for path in self.redact:
            SubElement(el, "redact").set("path", path)
        return el

    def compile_message(self, runtime, direction, schemas):
        share = self.sampling_percentage / 100.0
        max_bytes = self.max_bytes
        paths = tuple(_parse_path(Node("redact", {}, self.line), p) for p in self.redact)
        arrow = "up" if direction == "inbound" else "down"
        rand = random.random

        def shown(payload) -> str:
            if type(payload) is not str:
                return f"(binary, {len(payload)} bytes)"
            if not paths:
                return _cut(payload, max_bytes)
            try:
                doc = json.loads(payload)
            except (ValueError, RecursionError):
                return "(not JSON: not shown, since paths are redacted)"
            for path in paths:
                _redact(doc, path)
            return _cut(json.dumps(doc, ensure_ascii=False), max_bytes)

        def factory(ctx, conn):
            samples = conn.samples

            def check(payload, size):
                if len(samples) < MAX_SAMPLES and (share >= 1.0 or rand() < share):
                    samples.append(
                        {
                            "direction": arrow,
                            "at": round(time.time(), 3),
                            "size": size,
                            "text": shown(payload),
                        }
                    )
                return None

            return check

        return factory
