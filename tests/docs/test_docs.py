"""The documentation site: it builds strictly, lists every page, and its configuration table and
architecture page cannot drift from the settings and the gateway's modules."""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.support.servers import ROOT

DOCS = ROOT / "docs"


def nav_pages(nav) -> list[str]:
    pages = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages.extend(nav_pages(value) if isinstance(value, list) else [value])
    return pages


def test_the_nav_lists_every_page_once():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    listed = nav_pages(config["nav"])
    files = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
    assert sorted(listed) == files
    assert len(set(listed)) == len(listed)


def test_the_site_builds_in_strict_mode(tmp_path):
    mkdocs = shutil.which("mkdocs", path=os.path.dirname(sys.executable))
    assert mkdocs, "mkdocs is pinned in requirements-dev.txt"
    result = subprocess.run(
        [mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "site" / "configuration" / "index.html").exists()


# -- the configuration table against the settings actually read ---------------------------------

RECORD_READS = """
import json, os
seen = set()
class Recording(dict):
    def get(self, key, default=None):
        seen.add(key)
        return super().get(key, default)
    def __getitem__(self, key):
        seen.add(key)
        return super().__getitem__(key)
    def __contains__(self, key):
        seen.add(key)
        return super().__contains__(key)
os.environ = Recording(os.environ)
import portal.settings
print(json.dumps(sorted(seen)))
"""

# One environment per branch of the settings: the demo (DEBUG, with the public-host escape
# hatch), production, and a self-hosted gateway node.
BRANCHES = [
    {"DEBUG": "1", "ALLOWED_HOSTS": "portico.example", "PORTICO_ALLOW_DEBUG_ON_PUBLIC_HOST": "1"},
    {"SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "portico.example"},
    {
        "PORTICO_CONTROL_URL": "https://portico.example",
        "PORTICO_GATEWAY_TOKEN": "pgw_test",
        "PORTICO_GATEWAY": "edge",
    },
]


def names_read_at_run_time(tmp_path) -> set[str]:
    """Every environment variable `portal.settings` looks up, recorded while it is imported."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PORTICO_", "DJANGO_", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG"))
        and k not in ("DATABASE_URL", "REDIS_URL")
    }
    seen: set[str] = set()
    for branch in BRANCHES:
        env = {**clean, "PORTICO_VAR_DIR": str(tmp_path), **branch}
        result = subprocess.run(
            [sys.executable, "-c", RECORD_READS],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        seen |= set(json.loads(result.stdout.splitlines()[-1]))
    return seen


def names_read_in_the_source() -> set[str]:
    settings = (ROOT / "portal" / "settings.py").read_text()
    names = set(re.findall(r'env_\w+\(\s*"([A-Z0-9_]+)"', settings))
    for module in ("portal/settings.py", "gateway/server/serve.py"):
        text = (ROOT / module).read_text()
        names |= set(re.findall(r'os\.environ(?:\.get)?[\[(]"([A-Z0-9_]+)"', text))
        names |= set(re.findall(r'"([A-Z0-9_]+)" in os\.environ', text))
    return names


def names_in_the_table() -> list[str]:
    page = (DOCS / "configuration.md").read_text()
    names = []
    for first_cell in re.findall(r"^\| ([^|]+) \|", page, re.M):
        names.extend(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    return names


def test_the_configuration_table_lists_exactly_the_settings_read(tmp_path):
    read = names_read_at_run_time(tmp_path) | names_read_in_the_source()
    read -= {"DJANGO_SETTINGS_MODULE"}
    assert "SECRET_KEY" in read and "PORTICO_VAR_DIR" in read, read
    documented = names_in_the_table()
    assert len(documented) == len(set(documented)), "a setting is listed twice"
    assert sorted(read - set(documented)) == [], "read by the settings, missing from the table"
    assert sorted(set(documented) - read) == [], "in the table, read by nothing"


# -- the architecture page against the gateway's modules ----------------------------------------


def test_the_architecture_page_names_every_gateway_module():
    page = (DOCS / "architecture.md").read_text()
    modules = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "gateway").rglob("*.py")
        if path.name != "__init__.py" and "migrations" not in path.parts
    )
    assert len(modules) > 30
    assert [m for m in modules if f"| `{m}` |" not in page] == []
    named = set(re.findall(r"^\| `(gateway/[\w/]+\.py)` \|", page, re.M))
    assert sorted(n for n in named if not (ROOT / n).exists()) == [], "names a module that is gone"


@pytest.mark.parametrize("page", ["index.md", "policies/reference.md", "configuration.md"])
def test_every_page_opens_with_its_title(page):
    assert (DOCS / page).read_text().startswith("# ")
