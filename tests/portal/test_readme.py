"""The README's two commands are the ones CI runs, and every setting read is documented."""

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


def test_every_environment_variable_is_in_the_configuration_table():
    readme = (ROOT / "README.md").read_text()
    source = (ROOT / "portal" / "settings.py").read_text()
    names = set(re.findall(r'env_\w+\(\s*"([A-Z_]+)"', source))
    assert names, "settings read no environment variables?"
    missing = sorted(name for name in names if f"`{name}`" not in readme)
    assert missing == []
