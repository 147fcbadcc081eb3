"""Safe XML reading into a small tree that remembers line numbers (no DTDs, no entities)."""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from .errors import PolicyError

MAX_DOCUMENT_CHARS = 256 * 1024


@dataclass
class Node:
    """One XML element: tag, attributes in document order, text, children and its line."""

    tag: str
    attrib: dict[str, str]
    line: int
    text: str = ""
    children: list[Node] = field(default_factory=list)

    def error(self, message: str, attribute: str | None = None) -> PolicyError:
        return PolicyError(message, line=self.line, element=self.tag, attribute=attribute)


class _LineTreeBuilder:
    """ElementTree parser target that builds `Node`s, reading the line from expat."""

    def __init__(self) -> None:
        self.parser: DefusedXMLParser | None = None
        self.stack: list[Node] = []
        self.root: Node | None = None

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        line = self.parser.parser.CurrentLineNumber if self.parser else 0
        node = Node(tag=tag, attrib=dict(attrib), line=line)
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)

    def end(self, tag: str) -> None:
        self.stack.pop()

    def data(self, data: str) -> None:
        if self.stack:
            self.stack[-1].text += data

    def close(self) -> Node | None:
        return self.root


def parse_xml(text: str) -> Node | None:
    """Parse `text` into a `Node` tree; blank text gives None. DTDs and entities are refused."""
    if not text or not text.strip():
        return None
    if len(text) > MAX_DOCUMENT_CHARS:
        raise PolicyError(f"document is larger than {MAX_DOCUMENT_CHARS} characters")
    builder = _LineTreeBuilder()
    parser = DefusedXMLParser(
        target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    builder.parser = parser
    try:
        parser.feed(text)
        root = parser.close()
    except DefusedXmlException as exc:
        line = parser.parser.CurrentLineNumber if getattr(parser, "parser", None) else None
        raise PolicyError(
            f"DTDs, entity declarations and external references are not allowed ({exc})",
            line=line,
        ) from None
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        msg = str(exc).split(": line", 1)[0]
        raise PolicyError(f"malformed XML: {msg}", line=line) from None
    return root
