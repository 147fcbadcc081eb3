"""Follow `$ref`s that point inside the document (JSON pointers); other references are refused."""

from urllib.parse import unquote

from apis.asyncapi.errors import AsyncApiError, Problem

MAX_INLINED = 200_000  # values written while inlining, so references to references stay bounded
RECURSIVE = "x-portico-recursive"  # marks where a recursive schema was cut (any value passes)


def pointer_parts(ref: str) -> list[str]:
    """`#/components/schemas/a~1b` -> ["components", "schemas", "a/b"]."""
    fragment = unquote(ref[1:])
    if not fragment:
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in fragment.lstrip("/").split("/")]


def pointer(parts) -> str:
    """The inverse of pointer_parts: ["channels", "a/b"] -> `#/channels/a~1b`."""
    return "#/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


class Resolver:
    """Reads one document; collects problems instead of stopping at the first."""

    def __init__(self, document: dict) -> None:
        self.document = document
        self.problems: list[Problem] = []
        self.budget = MAX_INLINED

    def target(self, ref, where: str):
        """What `ref` points at, or None (and a problem) when it cannot be followed."""
        if not isinstance(ref, str) or not ref.startswith("#"):
            self.problems.append(
                Problem(where, f"Only references inside the document can be read, not {ref!r}.")
            )
            return None
        node = self.document
        for part in pointer_parts(ref):
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                self.problems.append(Problem(where, f"{ref} points at nothing in the document."))
                return None
        return node

    def deref(self, node, where: str):
        """Follow a chain of Reference Objects to the object itself (None if broken)."""
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                self.problems.append(Problem(where, f"{ref} refers to itself."))
                return None
            seen.add(ref)
            node = self.target(ref, where)
        return node

    def inline(self, node, where: str, _stack: tuple = ()):
        """A copy of `node` with every reference replaced by what it points at.

        A recursive schema cannot be written out in full: the inner repetition becomes
        `{"x-portico-recursive": ref}`, which accepts any value.
        """
        self.budget -= 1
        if self.budget < 0:
            self.problems.append(Problem(where, "The references expand to too large a document."))
            raise AsyncApiError(self.problems)
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                if ref in _stack:
                    return {RECURSIVE: ref}
                found = self.target(ref, where)
                return {} if found is None else self.inline(found, where, (*_stack, ref))
            return {k: self.inline(v, where, _stack) for k, v in node.items()}
        if isinstance(node, list):
            return [self.inline(v, where, _stack) for v in node]
        return node
