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
    column: int = 0  # 1-based column of the "<" that opens the element
    source: str = ""  # the policy fragment it was read from ("" for the document itself)

    def error(
        self, message: str, attribute: str | None = None, *, reason: str | None = None
    ) -> PolicyError:
        """An error about this element or its `attribute`; a message quoting their text gives
        `reason`, the same without the quote (how a secret's part of it is spoken of)."""
        where = f"in policy fragment '{self.source}': " if self.source else ""
        return PolicyError(
            where + message,
            line=self.line,
            element=self.tag,
            attribute=attribute,
            subject=self.attrib.get(attribute) if attribute else self.text,
            reason=reason,
            where=where,
        )


class _LineTreeBuilder:
    """ElementTree parser target that builds `Node`s, reading the line from expat."""

    def __init__(self) -> None:
        self.parser: DefusedXMLParser | None = None
        self.stack: list[Node] = []
        self.root: Node | None = None

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        expat = self.parser.parser if self.parser else None
        line = expat.CurrentLineNumber if expat else 0
        column = expat.CurrentColumnNumber + 1 if expat else 0
        node = Node(tag=tag, attrib=dict(attrib), line=line, column=column)
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


def _escape(text: str, quote: bool) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if quote:
        text = text.replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;")
        text = text.replace("\t", "&#9;")
    return text


def to_text(node: Node, indent: str = "") -> str:
    """Serialize a tree back to XML text (comments and layout are not kept). An element with
    children keeps only its text that is not blank (policies have no mixed content)."""
    attrs = "".join(f' {k}="{_escape(v, True)}"' for k, v in node.attrib.items())
    if not node.children:
        if not node.text:
            return f"{indent}<{node.tag}{attrs} />"
        return f"{indent}<{node.tag}{attrs}>{_escape(node.text, False)}</{node.tag}>"
    inner = [to_text(child, indent + "    ") for child in node.children]
    text = _escape(node.text.strip(), False) if node.text.strip() else ""
    body = "\n".join(([indent + "    " + text] if text else []) + inner)
    return f"{indent}<{node.tag}{attrs}>\n{body}\n{indent}</{node.tag}>"
