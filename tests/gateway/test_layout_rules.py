"""The data plane's shape, checked from the source: what `gateway` may import, how many modules
sit at its top, who reads settings, how long a file may grow, and that no import circle exists.

Imports are read with `ast`, including those inside functions, so a circle cannot hide behind a
function-level import."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

GATEWAY = ROOT / "gateway"
# The only gateway modules that may import the control plane (`apis`) or the site (`portal`).
MAY_IMPORT_THE_CONTROL_PLANE = ("gateway/controlplane/database.py", "gateway/management/")
# The modules that read `django.conf.settings`: the config builder and the process entry.
# (A third is allowed; docs/architecture.md would name it.)
SETTINGS_READERS = {"gateway/config.py", "gateway/management/commands/run_gateway.py"}
MAX_TOP_LEVEL = 10
MAX_LINES = 500


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, root: Path = ROOT) -> list[tuple[str, tuple[str, ...]]]:
    """(module, names taken from it) for every import in `path`, at any depth."""
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((alias.name, ()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((module, tuple(alias.name for alias in node.names)))
    return found


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Every module `path` imports; `from a import b` yields `a` and `a.b`."""
    names: set[str] = set()
    for module, taken in imports(path, root):
        names.add(module)
        names.update(f"{module}.{name}" for name in taken)
    return names


def python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if ".venv" not in p.parts)


def import_graph(*folders: Path, root: Path = ROOT) -> dict[str, set[str]]:
    """module -> the modules under `folders` it imports (names that are not modules dropped)."""
    files = [path for folder in folders for path in python_files(folder)]
    modules = {module_name(p, root) for p in files}
    graph: dict[str, set[str]] = {}
    for path in files:
        targets = graph.setdefault(module_name(path, root), set())
        for module, taken in imports(path, root):
            submodules = {f"{module}.{name}" for name in taken} & modules
            # `from pkg import mod` depends on `pkg.mod`; `from pkg import name` on `pkg`.
            if len(submodules) < len(taken) or not taken:
                submodules.add(module)
            targets |= submodules & modules
        targets.discard(module_name(path, root))
    return graph


def find_circle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle (its modules in order, the first repeated at the end), or []."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_data_plane_never_imports_the_control_plane_or_the_site():
    offending = [
        f"{relative(path)}: {name}"
        for path in python_files(GATEWAY)
        if not relative(path).startswith(MAY_IMPORT_THE_CONTROL_PLANE)
        for name in imported_modules(path)
        if name.split(".")[0] in ("apis", "portal")
    ]
    assert offending == []


def test_the_gateway_holds_at_most_ten_top_level_modules():
    top = sorted(p.name for p in GATEWAY.glob("*.py") if p.name != "__init__.py")
    assert len(top) <= MAX_TOP_LEVEL, top


def test_only_the_config_builder_and_the_process_entry_read_settings():
    readers = {
        relative(path)
        for path in python_files(GATEWAY)
        if "django.conf" in imported_modules(path) or "django.conf.settings" in path.read_text()
    }
    assert SETTINGS_READERS <= readers and len(readers) <= 3, readers
    page = (ROOT / "docs" / "architecture.md").read_text()
    assert [m for m in readers - SETTINGS_READERS if f"`{m}`" not in page] == []


def test_no_python_file_outside_tests_bench_and_migrations_is_over_500_lines():
    long = {
        relative(path): len(path.read_text().splitlines())
        for path in python_files(ROOT)
        if not relative(path).startswith(("tests/", "bench/"))
        and "migrations" not in path.parts
        and len(path.read_text().splitlines()) > MAX_LINES
    }
    assert long == {}


def test_no_import_circle_among_gateway_modules():
    assert find_circle(import_graph(GATEWAY)) == []


def test_no_import_circle_between_the_planes():
    """apis imports the contract and policies from gateway; only the database link and the
    management commands import apis back, and nothing of apis leads to them."""
    assert find_circle(import_graph(GATEWAY, ROOT / "apis", ROOT / "portal")) == []


def test_the_circle_finder_sees_a_circle_through_a_function_level_import(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("def f():\n    from .a import thing\n")
    (package / "c.py").write_text("import pkg.a\n")
    graph = import_graph(package, root=tmp_path)
    assert graph["pkg.c"] == {"pkg.a"}
    assert find_circle(graph) == ["pkg.a", "pkg.b", "pkg.a"]
