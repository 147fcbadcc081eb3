"""Follow `$ref`s that point inside the document (JSON pointers); other references are refused.

Reading is bounded, so no document can make it recurse or work without limit: a value written
out with its references followed nests at most MAX_DEPTH levels (each reference followed counts
as a level: the gateway checks messages against these payloads, with the same limit), and at most
MAX_VISITS values and references are visited in all.
"""

from urllib.parse import unquote

from apis.asyncapi.errors import AsyncApiError, Problem, json_path
from gateway.policies.jsonschemas import MAX_DEPTH, REFERENCES, is_local, member

MAX_VISITS = 200_000  # as many values as a document may hold (loading.MAX_NODES)
MAX_PROBLEMS = 20  # reading stops there: a document aliasing one bad reference stays cheap
MAX_SHOWN = 200  # characters of a reference repeated in a problem
RECURSIVE = "x-portico-recursive"  # marks where a recursive schema was cut (any value passes)
_NOTHING = object()


def pointer_parts(ref: str) -> list[str]:
    """`#/components/schemas/a~1b` -> ["components", "schemas", "a/b"]."""
    fragment = unquote(ref[1:])
    if not fragment:
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in fragment.lstrip("/").split("/")]


def pointer(parts) -> str:
    """The inverse of pointer_parts: ["channels", "a/b"] -> `#/channels/a~1b`."""
    return "#/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _cut(text: str) -> str:
    """A reference as a problem repeats it: cut short, so a huge one costs little."""
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


class Resolver:
    """Reads one document; collects problems instead of stopping at the first."""

    def __init__(self, document: dict) -> None:
        self.document = document
        self.problems: list[Problem] = []
        self.visits = MAX_VISITS
        self._found: dict = {}  # ref -> (value, its JSON path) or _NOTHING, each looked up once

    def problem(self, where: str, message: str) -> None:
        problem = Problem(where, message)
        if problem not in self.problems:
            self.problems.append(problem)
        if len(self.problems) >= MAX_PROBLEMS:
            raise AsyncApiError(self.problems)

    def _visit(self, where: str) -> None:
        self.visits -= 1
        if self.visits < 0:
            self.problems.append(Problem(where, "The references expand to too large a document."))
            raise AsyncApiError(self.problems)

    def lookup(self, ref, where: str):
        """(what `ref` points at, its JSON path), or None (and a problem) when it cannot be
        followed."""
        self._visit(where)
        if not is_local(ref):
            message = f"Only references inside the document can be read, not {_cut(repr(ref))}."
            self.problem(where, message)
            return None
        found = self._found.get(ref)
        if found is None:
            found = self._found[ref] = self._walk(ref)
        if found is _NOTHING:
            self.problem(where, f"{_cut(ref)} points at nothing in the document.")
            return None
        return found

    def _walk(self, ref: str):
        node, parts = self.document, []
        for part in pointer_parts(ref):
            if isinstance(node, dict) and part in node:
                node = node[part]
                parts.append(part)
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
                parts.append(int(part))
            else:
                return _NOTHING
        return node, json_path(parts)

    def target(self, ref, where: str):
        """What `ref` points at, or None (and a problem) when it cannot be followed."""
        found = self.lookup(ref, where)
        return None if found is None else found[0]

    def deref(self, node, where: str):
        """Follow a chain of Reference Objects to the object itself (None if broken)."""
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not is_local(ref):
                return self.target(ref, where)  # refused, with a problem
            if ref in seen:
                self.problem(where, f"{_cut(ref)} refers to itself.")
                return None
            seen.add(ref)
            node = self.target(ref, where)
        return node

    def inline(self, node, where: str, _stack: tuple = (), _depth: int = 0):
        """A copy of `node` with every reference replaced by what it points at.

        `where` is the JSON path of `node`; a problem names the path of the value it is about.
        A recursive schema cannot be written out in full: the inner repetition becomes
        `{"x-portico-recursive": ref}`, which accepts any value. `$dynamicRef` and
        `$recursiveRef` stay as they are, and must point inside the schema too.
        """
        self._visit(where)
        if _depth > MAX_DEPTH:
            self._too_deep(where, _stack)
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                if _depth + 1 > MAX_DEPTH:  # what it points at (or the cut) is one level down
                    self._too_deep(member(where, "$ref"), _stack)
                if ref in _stack:
                    return {RECURSIVE: ref}
                found = self.lookup(ref, member(where, "$ref"))
                if found is None:
                    return {}
                value, path = found
                return self.inline(value, path, (*_stack, ref), _depth + 1)
            for key in REFERENCES:
                if key in node and isinstance(node[key], str) and not is_local(node[key]):
                    message = "Only references inside the schema (#...) can be used."
                    self.problem(member(where, key), message)
            return {
                k: self.inline(v, member(where, k), _stack, _depth + 1) for k, v in node.items()
            }
        if isinstance(node, list):
            return [
                self.inline(v, member(where, i), _stack, _depth + 1) for i, v in enumerate(node)
            ]
        return node

    def _too_deep(self, where: str, stack: tuple):
        message = (
            f"With its references followed, the value nests deeper than {MAX_DEPTH} levels"
            f" here ({len(stack)} references followed)."
        )
        self.problems.append(Problem(where, message))
        raise AsyncApiError(self.problems)
