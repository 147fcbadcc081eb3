"""Policy fragments: `<include-fragment fragment-id="…"/>` replaced by a fragment's policies.

A fragment is `<fragment>` holding a sequence of policy elements. Includes are expanded on the
parsed tree wherever a policy may appear (a section, `<when>`, `<otherwise>`, another fragment),
before the policies are read; the control plane ships nodes the expanded text (`resolve_text`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .errors import PolicyError
from .namedvalues import resolve_named_values
from .xmlnode import Node, parse_xml, to_text

INCLUDE = "include-fragment"
ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,80}")
MAX_INCLUDE_DEPTH = 8  # a fragment including a fragment ...: deeper is refused, as cycles are


def parse_fragment(xml: str, fragment_id: str = "") -> Node:
    """The `<fragment>` root of a fragment's text; its nodes remember the fragment's id."""
    root = parse_xml(xml)
    if root is None:
        raise PolicyError("a policy fragment needs a <fragment> element")
    if root.tag != "fragment":
        raise root.error("the document element of a policy fragment must be <fragment>")
    if root.attrib:
        name = next(iter(root.attrib))
        raise root.error("takes no attributes", attribute=name)
    if fragment_id:
        _mark(root, fragment_id)
    return root


def _mark(node: Node, source: str) -> None:
    node.source = source
    for child in node.children:
        _mark(child, source)


def fragment_ids(xml: str | None) -> set[str]:
    """The fragment ids a document includes directly (a cheap scan; no validation)."""
    if not xml or INCLUDE not in xml:
        return set()
    try:
        root = parse_xml(xml)
    except PolicyError:
        return set()
    found: set[str] = set()
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if node.tag == INCLUDE and node.attrib.get("fragment-id"):
            found.add(node.attrib["fragment-id"])
        stack.extend(node.children)
    return found


def expand_document(root: Node, fragments: Mapping[str, str] | None) -> None:
    """Replace every include in `root` (a `<policies>` tree) by its fragment's policies."""
    for section in root.children:
        if section.tag == "on-message":
            for sub in section.children:
                expand_policies(sub, fragments, ())
        else:
            expand_policies(section, fragments, ())


def expand_policies(container: Node, fragments: Mapping[str, str] | None, chain: tuple) -> None:
    """Expand includes among `container`'s children and inside their `<choose>` branches."""
    out: list[Node] = []
    for child in container.children:
        if child.tag == INCLUDE:
            out.extend(_include(child, fragments or {}, chain))
            continue
        if child.tag == "choose":
            for branch in child.children:
                expand_policies(branch, fragments, chain)
        out.append(child)
    container.children = out


def _include(node: Node, fragments: Mapping[str, str], chain: tuple) -> list[Node]:
    extra = [name for name in node.attrib if name != "fragment-id"]
    if extra:
        raise _at(node, f'unknown attribute "{extra[0]}"')
    if node.children or node.text.strip():
        raise _at(node, "<include-fragment> takes no content")
    fragment_id = node.attrib.get("fragment-id", "").strip()
    if not fragment_id:
        raise _at(node, 'needs the attribute "fragment-id"')
    if fragment_id in chain:
        cycle = " -> ".join((*chain, fragment_id))
        raise _at(node, f"policy fragments include each other in a cycle: {cycle}")
    if len(chain) >= MAX_INCLUDE_DEPTH:
        raise _at(node, f"policy fragments may nest at most {MAX_INCLUDE_DEPTH} levels deep")
    if fragment_id not in fragments:
        reason = "does not name a known policy fragment"
        raise _at(node, f"unknown policy fragment '{fragment_id}'", reason)
    root = parse_fragment(fragments[fragment_id], fragment_id)
    expand_policies(root, fragments, (*chain, fragment_id))
    return root.children


def _at(node: Node, message: str, reason: str | None = None) -> PolicyError:
    """An error at an include, located by line and column (in a fragment: named)."""
    where = f"in policy fragment '{node.source}': " if node.source else ""
    where += f"column {node.column}: "
    err = PolicyError(
        where + message,
        line=node.line,
        element=INCLUDE,
        subject=node.attrib.get("fragment-id"),
        reason=reason,
        where=where,
    )
    err.column = node.column  # type: ignore[attr-defined]
    return err


def resolve_text(xml: str | None, values: Mapping[str, str], fragments: Mapping[str, str]) -> str:
    """The text a gateway node compiles: named values filled in and fragments expanded.

    `fragments` must already have their own named values resolved. Without includes the text
    keeps its layout (and line numbers); with them it is the re-serialized tree.
    """
    if not xml or not xml.strip():
        return xml or ""
    text = resolve_named_values(xml, values)
    if INCLUDE not in text:
        return text
    root = parse_xml(text)
    if root is None:
        return text
    expand_document(root, fragments)
    return to_text(root)
