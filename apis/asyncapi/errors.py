"""Why a document was refused: each problem names the JSON path it is about."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    path: str  # a JSON path into the document, e.g. `$.channels.chat.messages`
    message: str
    field: str = "document"  # the request field it belongs to (`server` for a server choice)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class AsyncApiError(Exception):
    """A document Portico cannot use; `problems` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems

    def as_dict(self) -> dict[str, list[str]]:
        """{field: [messages]}, the shape of a Django ValidationError."""
        out: dict[str, list[str]] = {}
        for problem in self.problems:
            out.setdefault(problem.field, []).append(str(problem))
        return out


def json_path(parts) -> str:
    """`$.channels['user/signup'].messages[0]` from a sequence of keys and indexes."""
    path = "$"
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif str(part).isidentifier():
            path += f".{part}"
        else:
            path += "['" + str(part).replace("\\", "\\\\").replace("'", "\\'") + "']"
    return path
