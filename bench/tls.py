"""TLS rows (issue 27 item 7): CPU per TLS handshake and per relayed message over TLS, Portico
(`run_gateway --certfile/--keyfile`) beside nginx terminating TLS with the same certificate and
key, with the same two figures over plain ws:// in the same run.

    .venv/bin/python bench/tls.py                 # 2 rounds, 5 s per test: about 3 minutes
    .venv/bin/python bench/tls.py --rounds 3 --duration 10

Uses bench/run.py's pieces: the Node.js `ws` echo backend and load client (which trusts the
run's throwaway CA through NODE_EXTRA_CA_CERTS), one nginx worker, one Portico process. The
certificate is ECDSA P-256 for 127.0.0.1; clients connect by address (no SNI), so Portico
serves the --certfile pair: the key-only case. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import ssl
import statistics
import subprocess
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import run as harness  # bench/run.py (the script's folder is on sys.path)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

TLS_LINES = """
        listen 127.0.0.1:{port} ssl backlog=4096;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache off;
        ssl_session_tickets off;
"""


def write_certificate(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 (ECDSA P-256): (ca, cert, key) PEM files."""
    now = datetime.now(UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("bench CA"))
        .issuer_name(name("bench CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(cert.public_bytes(pem) + ca.public_bytes(pem))
    paths[2].write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


def start_nginx(nginx: str, workdir: Path, port: int, backend: int, nofile: int, tls):
    """bench/run.py's nginx, listening with TLS when `tls` is (cert, key)."""
    proc, pids = None, []
    conf_text = harness.NGINX_CONF
    if tls:
        conf_text = conf_text.replace(
            "        listen 127.0.0.1:{port} backlog=4096;\n",
            TLS_LINES.replace("{cert}", str(tls[0])).replace("{key}", str(tls[1])).lstrip("\n"),
        )
    original = harness.NGINX_CONF
    harness.NGINX_CONF = conf_text
    try:
        proc, pids = harness.start_nginx(nginx, workdir, port, backend, nofile)
    finally:
        harness.NGINX_CONF = original
    return proc, pids


def start_portico(env: dict, workdir: Path, port: int, tls) -> subprocess.Popen:
    """run_gateway (one process), with --certfile/--keyfile when `tls` is (cert, key)."""
    command = [harness.PYTHON, "manage.py", "run_gateway", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", "1"]
    if tls:
        command += ["--certfile", str(tls[0]), "--keyfile", str(tls[1])]
    with open(workdir / f"portico-{port}.log", "w") as log_file:
        proc = harness.CHILDREN.start(
            "portico", command, cwd=harness.ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    harness.wait_for_port(port, proc, "portico", timeout=120)
    scheme = "https" if tls else "http"
    unverified = ssl._create_unverified_context()  # noqa: S323 - our own throwaway certificate
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            url = f"{scheme}://127.0.0.1:{port}/_portico/status"
            with urllib.request.urlopen(url, timeout=5, context=unverified) as r:  # noqa: S310
                if json.load(r).get("apis", 0) >= 1:
                    return proc
        time.sleep(0.2)
    raise RuntimeError(f"portico did not serve its catalog: see {workdir}")


def measure(url: str, proxy_pids: list[int], backend_pid: int, args) -> dict:
    bound = args.warmup + args.duration + 60
    pids = [*proxy_pids, backend_pid]
    rtt = harness.measure_rtt(url, pids, proxy_pids, backend_pid, args, bound)
    hs = harness.measure_handshakes(url, pids, proxy_pids, backend_pid, args, bound)
    return {
        "us_per_msg": rtt.get("proxy_cpu_us_per_relayed_msg"),
        "ms_per_handshake": hs.get("proxy_cpu_ms_per_handshake"),
        "rtt_error": rtt.get("error"),
        "handshake_error": hs.get("error"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    args = parser.parse_args(argv)
    harness.ensure_node_modules()
    nginx = harness.ensure_nginx()
    tmp = Path(tempfile.mkdtemp(prefix="portico-bench-tls-"))
    ca, cert, key = write_certificate(tmp)
    os.environ["NODE_EXTRA_CA_CERTS"] = str(ca)  # the load client trusts the run's CA
    nofile = harness.raise_fd_limit(4096)
    backend_port = harness.free_port()
    backend = harness.start_node_backend(backend_port)
    env = harness.portico_env(tmp, 30.0)
    info = harness.prepare_catalog(harness.ROOT, env, backend_port)
    path = f"/{info['api_suffix']}?subscription-key={info['primary_key']}"
    results: dict[str, list[dict]] = {}
    for round_no in range(1, args.rounds + 1):
        for target in ("portico", "nginx"):
            if target == "nginx" and nginx is None:
                continue
            for tls in (None, (cert, key)):
                label = f"{target} {'wss' if tls else 'ws'}"
                port = harness.free_port()
                workdir = tmp / f"{target}-{round_no}-{'tls' if tls else 'plain'}"
                workdir.mkdir()
                if target == "portico":
                    proc = start_portico(env, workdir, port, tls)
                    pids = harness.descendants(proc.pid) or [proc.pid]
                else:
                    proc, pids = start_nginx(nginx, workdir, port, backend_port, nofile, tls)
                scheme = "wss" if tls else "ws"
                url = f"{scheme}://127.0.0.1:{port}{path if target == 'portico' else '/'}"
                harness.log(f"round {round_no}: {label}")
                results.setdefault(label, []).append(measure(url, pids, backend.pid, args))
                harness.forget(proc)
    print_table(results)
    out = harness.BENCH / "results" / f"tls-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"raw figures: {out}")
    return 0


def _median(rows: list[dict], field: str) -> float | None:
    values = [r[field] for r in rows if r.get(field) is not None]
    return statistics.median(values) if values else None


def print_table(results: dict[str, list[dict]]) -> None:
    nginx = {
        f: _median(results.get("nginx wss", []), f) for f in ("us_per_msg", "ms_per_handshake")
    }
    print()
    print(f"{'target':<14} {'CPU µs/relayed msg':>19} {'x nginx wss':>12} "
          f"{'CPU ms/handshake':>17} {'x nginx wss':>12}")  # fmt: skip
    for label, rows in results.items():
        msg, hs = _median(rows, "us_per_msg"), _median(rows, "ms_per_handshake")
        cells = []
        for value, base, fmt in (
            (msg, nginx["us_per_msg"], "{:.1f}"),
            (hs, nginx["ms_per_handshake"], "{:.3f}"),
        ):
            cells.append(fmt.format(value) if value is not None else "n/a")
            cells.append(f"{value / base:.2f}x" if value and base else "—")
        print(f"{label:<14} {cells[0]:>19} {cells[1]:>12} {cells[2]:>17} {cells[3]:>12}")
        for row in rows:
            for error in ("rtt_error", "handshake_error"):
                if row.get(error):
                    print(f"  {label}: {error}: {row[error]}")


if __name__ == "__main__":
    raise SystemExit(main())
