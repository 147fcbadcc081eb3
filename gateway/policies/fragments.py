"""Policy fragments: `<include-fragment fragment-id="…"/>` replaced by a fragment's policies.

A fragment is `<fragment>` holding a sequence of policy elements. Includes are expanded on the
parsed tree wherever a policy may appear (a section, `<when>`, `<otherwise>`, another fragment),
before the policies are read; the control plane ships nodes the expanded text (`resolve_text`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from .errors import PolicyError
from .namedvalues import resolve_named_values
from .xmlnode import MAX_DOCUMENT_CHARS, Node, parse_xml, to_text

INCLUDE = "include-fragment"
ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,80}")
MAX_INCLUDE_DEPTH = 8  # a fragment including a fragment ...: deeper is refused, as cycles are
# The most policy elements one document holds with its fragments included (each include counts):
# a gateway compiles every one, so a few fragments multiplying each other must not make thousands.
MAX_DOCUMENT_POLICIES = 2000


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


def expand_document(root: Node, fragments: Mapping[str, str] | None) -> str | None:
    """Replace every include in `root` (a `<policies>` tree) by its fragment's policies.

    Returns the expanded text a gateway node receives when something was included (None when
    nothing was), after checking it against the node's size limit: save time, the catalog sent
    to nodes and the node itself apply the same limits through this one function.
    """
    budget = ExpansionBudget("the document", fragments)
    for section in root.children:
        if section.tag == "on-message":
            for sub in section.children:
                expand_policies(sub, budget, ())
        else:
            expand_policies(section, budget, ())
    return budget.finish(root)


def expand_policies(container: Node, budget: ExpansionBudget, chain: tuple) -> None:
    """Expand includes among `container`'s children and inside their `<choose>` branches."""
    out: list[Node] = []
    for child in container.children:
        budget.charge(child)
        if child.tag == INCLUDE:
            out.extend(_include(child, budget, chain))
            continue
        if child.tag == "choose":
            for branch in child.children:
                expand_policies(branch, budget, chain)
        out.append(child)
    container.children = out


class ExpansionBudget:
    """What one document may grow to while its includes are expanded, counted as it grows.

    A fragment including another 300 times, which includes a third 300 times, is stopped at the
    include that crosses a limit, before the rest is expanded: each policy (an include counts as
    one) is charged when it is placed, and each included policy its serialized size, which is
    never more than what it adds to the text a node receives (`finish` checks that text whole).
    """

    def __init__(self, what: str, fragments: Mapping[str, str] | None) -> None:
        self.what = what  # "the document" or "policy fragment 'x'", for messages
        self.fragments = fragments or {}
        self.shipped = fragments is None  # a node's text: the control plane expanded includes
        self.policies = 0
        self.chars = 0
        self.included: list[str] = []  # fragment ids included at the top level, in order
        self.entry: Node | None = None  # the top-level include being expanded
        self.trees: dict[str, Node] = {}  # each fragment parsed once, copied per include

    def charge(self, node: Node) -> None:
        self.policies += 1
        if node.source and node.tag not in (INCLUDE, "choose"):
            self.chars += len(to_text(node))
        if self.policies > MAX_DOCUMENT_POLICIES:
            self._refuse(node, f"more than {MAX_DOCUMENT_POLICIES} policies")
        if self.chars > MAX_DOCUMENT_CHARS:
            self._refuse(node, f"more than {MAX_DOCUMENT_CHARS} characters")

    def _refuse(self, node: Node, size: str) -> None:
        if self.entry is None:
            raise node.error(f"{self.what} holds {size}, the most a gateway accepts")
        fragment_id = self.entry.attrib.get("fragment-id", "").strip()
        raise _at(
            self.entry,
            f"including policy fragment '{fragment_id}' here makes {self.what} larger than a "
            f"gateway accepts: {size} once policy fragments are included",
        )

    def tree(self, fragment_id: str) -> Node:
        """A fresh copy of the fragment's parsed `<fragment>` (each text is parsed once)."""
        if fragment_id not in self.trees:
            self.trees[fragment_id] = parse_fragment(self.fragments[fragment_id], fragment_id)
        return _copy(self.trees[fragment_id])

    def finish(self, root: Node) -> str | None:
        """The expanded text, refused when it is larger than a node parses (None: no include)."""
        if not self.included:
            return None
        text = to_text(root)
        if len(text) > MAX_DOCUMENT_CHARS:
            names = ", ".join(f"'{name}'" for name in dict.fromkeys(self.included))
            raise PolicyError(
                f"{self.what} is larger than a gateway accepts: more than {MAX_DOCUMENT_CHARS} "
                f"characters once policy fragments {names} are included"
            )
        return text


def _copy(node: Node) -> Node:
    return replace(node, attrib=dict(node.attrib), children=[_copy(c) for c in node.children])


def _include(node: Node, budget: ExpansionBudget, chain: tuple) -> list[Node]:
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
    if fragment_id not in budget.fragments:
        reason = "does not name a known policy fragment"
        message = f"unknown policy fragment '{fragment_id}'"
        if budget.shipped:
            message += (
                ": a gateway receives documents with their fragments included, and the control"
                " plane could not include them in this one (its log says why)"
            )
        raise _at(node, message, reason)
    top = budget.entry is None
    if top:
        budget.entry = node
        budget.included.append(fragment_id)
    try:
        root = budget.tree(fragment_id)
        expand_policies(root, budget, (*chain, fragment_id))
    finally:
        if top:
            budget.entry = None
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
    return expand_document(root, fragments) or text
