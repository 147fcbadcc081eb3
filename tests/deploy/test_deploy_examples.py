"""deploy/ works as shipped: HAProxy accepts its configuration, systemd accepts the units, the
units run real management commands with options they take, and the env files name only
settings docs/configuration.md documents."""

import datetime
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.management import get_commands, load_command_class

from tests.support.haproxy import HAPROXY, haproxy_available

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("portico-*"))


def self_signed_pem(path: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "portico.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + private)
    return path


@pytest.mark.skipif(not haproxy_available(), reason="haproxy not installed (.ci/run does)")
def test_the_haproxy_example_is_accepted_by_haproxy(tmp_path):
    text = (DEPLOY / "haproxy.cfg").read_text()
    certificate = self_signed_pem(tmp_path / "portico.pem")
    config = tmp_path / "haproxy.cfg"
    config.write_text(text.replace("/etc/haproxy/certs/portico.pem", str(certificate)))
    check = subprocess.run(
        [HAPROXY, "-c", "-f", str(config)], capture_output=True, text=True, timeout=30
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "warning" not in (check.stdout + check.stderr).lower()


@pytest.mark.skipif(not shutil.which("nginx"), reason="nginx not installed")
def test_the_nginx_example_is_accepted_by_nginx(tmp_path):
    certificate = self_signed_pem(tmp_path / "portico.pem")
    text = (DEPLOY / "nginx.conf").read_text()
    text = text.replace("/etc/nginx/certs/portico.pem", str(certificate))
    text = text.replace("/var/log/nginx/", f"{tmp_path}/")
    (tmp_path / "portico.conf").write_text(text)
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n    include {tmp_path}/portico.conf;\n}}\n"
    )
    check = subprocess.run(
        ["nginx", "-t", "-q", "-c", str(main), "-p", f"{tmp_path}/"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert check.returncode == 0, check.stderr
    log_format = re.search(r"^log_format portico (.*?);", text, re.M | re.S).group(1)
    variables = set(re.findall(r"\$\w+", log_format))
    assert "$uri" in variables and not variables & {"$request", "$request_uri", "$args"}


def test_the_haproxy_example_checks_node_health_and_never_logs_query_strings():
    text = (DEPLOY / "haproxy.cfg").read_text()
    gateway_backend = text.split("\nbackend gateway_nodes\n", 1)[1].split("\nbackend ", 1)[0]
    assert "uri /_portico/status" in gateway_backend and "expect status 200" in gateway_backend
    assert "balance leastconn" in gateway_backend
    assert "timeout tunnel" in text
    # The default HTTP log line (%r, %HU) prints the query string, where a key may travel.
    assert "option httplog" not in text
    log_format = re.search(r'^\s*log-format "(.*)"$', text, re.M).group(1)
    variables = set(re.findall(r"%\{?[A-Za-z]+", log_format))
    assert "%HPO" in variables and not variables & {"%r", "%HU", "%HQ", "%{+Q}r"}


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_systemd_accepts_the_unit(unit, tmp_path):
    """Paths rewritten to this checkout, so the check also finds the interpreter it runs."""
    python = ROOT / ".venv" / "bin" / "python"
    if not python.exists():
        pytest.skip("no .venv in this checkout (the README's test command makes one)")
    text = unit.read_text()
    text = text.replace("/opt/portico/.venv/bin/python", str(python))
    text = text.replace("/opt/portico", str(ROOT))
    text = re.sub(r"/etc/portico/(\w+)\.env", rf"{DEPLOY}/\1.env.example", text)
    for other in UNITS:  # a timer names its service next to it
        (tmp_path / other.name).write_text(other.read_text())
    (tmp_path / unit.name).write_text(text)
    check = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(tmp_path / unit.name)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def unit_commands() -> list[tuple[str, list[str]]]:
    """(unit, manage.py arguments) of every command a unit runs."""
    found = []
    for unit in UNITS:
        for line in unit.read_text().splitlines():
            if line.startswith(("ExecStart=", "ExecStartPre=")):
                argv = shlex.split(line.split("=", 1)[1])
                assert argv[1] == "manage.py", line
                found.append((unit.name, argv[2:]))
    return found


def test_every_unit_runs_a_real_command_with_options_it_takes():
    commands = unit_commands()
    names = {argv[0] for _unit, argv in commands}
    assert {"run_portal", "run_gateway", "migrate", "prune_connection_logs"} <= names
    known = get_commands()
    for unit, (name, *args) in commands:
        command = load_command_class(known[name], name)
        parser = command.create_parser("manage.py", name)
        parser.exit_on_error = False
        options = parser.parse_args(args)  # argparse exits (SystemExit) on an unknown option
        assert options is not None, unit
    gateway = next(argv for unit, argv in commands if argv[0] == "run_gateway")
    assert "--workers" in gateway


def test_the_env_examples_set_only_documented_settings():
    table = (ROOT / "docs" / "configuration.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)`", table, re.M))
    documented |= set(re.findall(r"`(SECURE_[A-Z_]+)`", table))
    for example in sorted(DEPLOY.glob("*.env.example")):
        names = re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example.read_text(), re.M)
        assert names, example
        assert sorted(set(names) - documented) == [], example.name
