"""*Run it* leaves the `portico` command working: its install step installs the project too."""

import re
import shlex
import subprocess

import pytest

from tests.support.servers import ROOT


def run_it_install_part() -> str:
    """`python3.11 -m venv .venv && .venv/bin/pip install …` from the README's first command."""
    first = re.search(r"```sh\n(.+?)\n```", (ROOT / "README.md").read_text(), re.S).group(1)
    steps = [step.strip() for step in first.split("&&")]
    install = [step for step in steps if "venv" in step and "manage.py" not in step]
    assert install and "pip install" in install[-1], first
    return " && ".join(install)


@pytest.mark.timeout(600)  # a fresh venv installs every pinned package from the local wheels
def test_the_run_it_install_step_leaves_the_portico_command_working(tmp_path):
    command = run_it_install_part()
    venv = tmp_path / "venv"
    # The same command in a fresh place, run from the repository root as the README runs it.
    command = command.replace(".venv", shlex.quote(str(venv)))
    done = subprocess.run(
        ["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=540
    )
    assert done.returncode == 0, done.stderr[-2000:]
    helped = subprocess.run(
        [str(venv / "bin" / "portico"), "--help"], capture_output=True, text=True, timeout=60
    )
    assert helped.returncode == 0, helped.stderr
    assert "usage: portico" in helped.stdout and "gateway" in helped.stdout
