"""The control plane's shape: no import circle in `apis` or `portal`, counting imports inside
functions too, no module there (migrations aside) longer than 500 lines, and every module of
`apis` in the architecture page."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("apis", "portal")
MAX_LINES = 500


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files(root: Path, packages=PACKAGES) -> dict[str, Path]:
    return {
        module_name(path, root): path
        for package in packages
        for path in sorted((root / package).rglob("*.py"))
        if "migrations" not in path.relative_to(root).parts
    }


def imported_names(module: str, path: Path, known) -> set[str]:
    """Every module named by an import anywhere in the file (module level, in functions, under
    TYPE_CHECKING): for `from a import b`, `a.b` when that is a module, else `a`."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                names.add(full if full in known else base)
    return names


def import_graph(files: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the scanned modules it imports (an import of `a.b.X` counts as `a.b`)."""
    graph = {}
    for module, path in files.items():
        edges = set()
        for name in imported_names(module, path, files):
            while name and name not in files:
                name = name.rpartition(".")[0]
            if name and name != module:
                edges.add(name)
        graph[module] = edges
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(start: str) -> None:
        # Iterative, so a deep chain of imports cannot hit the recursion limit.
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_in_the_control_plane():
    assert circles(import_graph(source_files(ROOT))) == []


def test_no_control_plane_module_is_over_500_lines():
    long = {
        str(path.relative_to(ROOT)): count
        for path in source_files(ROOT).values()
        if (count := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_architecture_page_names_every_control_plane_module():
    page = (ROOT / "docs" / "architecture.md").read_text()
    modules = [str(path.relative_to(ROOT)) for path in source_files(ROOT, ("apis",)).values()]
    modules = [m for m in modules if not m.endswith("__init__.py")]
    assert len(modules) > 100
    assert [m for m in modules if f"| `{m}` |" not in page] == []
    named = set(re.findall(r"^\| `(apis/[\w/]+\.py)` \|", page, re.M))
    assert sorted(n for n in named if not (ROOT / n).exists()) == [], "names a module that is gone"


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_a_circle_through_a_function_level_import_is_found(tmp_path):
    write(
        tmp_path,
        {
            "apis/__init__.py": "",
            "apis/models/__init__.py": "from apis.models.catalog import Api\n",
            "apis/models/catalog.py": (
                "class Api:\n    def clean(self):\n"
                "        from apis.policy_validation import check\n        check()\n"
            ),
            "apis/policy_validation.py": "def check():\n    from apis.models import Api\n",
            "apis/migrations/0001_initial.py": "import apis.models\n",
            "portal/__init__.py": "",
        },
    )
    assert circles(import_graph(source_files(tmp_path))) == [
        ["apis.models", "apis.models.catalog", "apis.policy_validation"]
    ]


def test_relative_and_submodule_imports_resolve(tmp_path):
    write(
        tmp_path,
        {
            "apis/__init__.py": "",
            "apis/selectors/__init__.py": "from .nodes import gateway_nodes\n",
            "apis/selectors/nodes.py": "from apis import services\n",
            "apis/services/__init__.py": "from . import nodes\n",
            "apis/services/nodes.py": "def record():\n    from ..selectors import nodes\n",
        },
    )
    graph = import_graph(source_files(tmp_path, packages=("apis",)))
    assert graph["apis.selectors"] == {"apis.selectors.nodes"}
    assert graph["apis.selectors.nodes"] == {"apis.services"}
    assert graph["apis.services"] == {"apis.services.nodes"}
    assert graph["apis.services.nodes"] == {"apis.selectors.nodes"}
    assert circles(graph) == [["apis.selectors.nodes", "apis.services", "apis.services.nodes"]]
