"""The catalog stands alone: `apis` never imports the site (`portal`) or its telemetry app."""

import ast
from pathlib import Path

APIS = Path(__file__).resolve().parents[2] / "apis"


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def offending_imports(forbidden: tuple[str, ...], skip: Path | None = None) -> list[str]:
    found = []
    for path in sorted(APIS.rglob("*.py")):
        if skip and skip in path.parents:
            continue
        for name in imported_modules(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(APIS.parent)}: {name}")
    return found


def test_the_catalog_never_imports_the_portal():
    assert offending_imports(("portal",)) == []


def test_the_catalog_never_imports_its_telemetry_app():
    assert offending_imports(("apis.telemetry",), skip=APIS / "telemetry") == []


def test_the_rule_sees_an_import_inside_a_function(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from portal.models import PortalSettings\n")
    assert "portal.models" in imported_modules(sample)
