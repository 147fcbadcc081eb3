"""The README: its two commands are the ones CI runs, it stays short, and its links resolve."""

import re

from tests.support.servers import ROOT


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```sh\n(.+?)\n```", text)


def test_ci_runs_the_readme_test_command_verbatim():
    run_command, test_command = readme_commands()[:2]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "manage.py demo" in run_command
    assert "pytest" in test_command
    assert ci.count(test_command) == 2  # once on SQLite, once on PostgreSQL + Redis


def test_the_readme_is_a_first_look_not_the_manual():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 200, "move reference material to a page under docs/"


def test_every_relative_link_in_the_readme_resolves():
    text = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    relative = [link for link in links if "://" not in link]
    assert "docs/configuration.md" in relative and "docs/quickstart.md" in relative
    assert [link for link in relative if not (ROOT / link).is_file()] == []


def test_the_readme_indexes_every_docs_page():
    text = (ROOT / "README.md").read_text()
    pages = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").rglob("*.md"))
    assert [page for page in pages if f"]({page})" not in text and page != "docs/index.md"] == []
