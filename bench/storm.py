"""The reconnect-storm row (issue 31, item 5): clients connected through a two-worker proxy all
reconnect at once after it restarts. Time until all are back, failed handshakes, peak memory.

Portico runs as one node with `--workers 2` (shared counters in Redis, so it needs --redis-url);
nginx with `worker_processes 2` (both: --storm-workers). Clients are spread over processes of at
most CONNECTIONS_PER_CLIENT connections, each from its own source address (127.0.0.x), and the
proxies' upstreams over one echo backend process per client group, so no process nears 20,000
descriptors except the proxy workers themselves (two per proxied connection: 20,000 clients need
a third worker each).

Beside the proxy's CPU, the seconds its processes were runnable but found no CPU free (the
run-queue wait of /proc/<pid>/task/*/schedstat), and the same two for the client processes: on a
shared machine a proxy that needs more CPU per reconnect spends the clients' 10 s handshake
timeout waiting for a core, and a client that waits for one reads the 101 after its own timer.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading
import time
from pathlib import Path

CONNECTIONS_PER_CLIENT = 9_000
OPEN_TIMEOUT = 600  # seconds allowed to open the first connections, and again for the storm
RETRIES_PER_CONNECTION = 10  # failed attempts a client process tolerates, per its connection
SAMPLE_EVERY = 0.1  # seconds between RSS samples of the proxy's processes during the storm


def runq_ns(pids: list[int]) -> int:
    """Nanoseconds these processes' threads spent runnable, waiting for a CPU."""
    total = 0
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").glob("*"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                total += int((task / "schedstat").read_text().split()[1])
    return total


class StormClient:
    """client.mjs in storm mode: its events by name, and the commands "go" and "close"."""

    def __init__(self, h, config: dict, name: str) -> None:
        self.proc = h.CHILDREN.start(
            name,
            [h.NODE, str(h.BENCH / "client.mjs"), json.dumps({"mode": "storm", **config})],
            stdin=h.subprocess.PIPE,
            stdout=h.subprocess.PIPE,
            text=True,
        )
        self.h = h
        self.events: dict[str, dict] = {}
        self.result: dict = {}
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            with self._changed:
                if line.startswith("EVENT "):
                    event = json.loads(line[6:])
                    self.events[event["event"]] = event
                elif line.startswith("RESULT "):
                    self.result = json.loads(line[7:])
                self._changed.notify_all()
        with self._changed:
            self.result = self.result or {"error": "client exited"}
            self._changed.notify_all()

    def wait(self, event: str, timeout: float) -> dict:
        with self._changed:
            self._changed.wait_for(lambda: event in self.events or self.result, timeout)
            return self.events.get(event, {})

    def tell(self, word: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.proc.stdin.write(word + "\n")
            self.proc.stdin.flush()

    def finish(self) -> None:
        self.tell("close")
        with self._changed:
            self._changed.wait_for(lambda: bool(self.result), 30)
        self.h.forget(self.proc)


def storm(h, ctx, target, index: int) -> dict:
    args = ctx.args
    total = args.storm_connections
    groups = math.ceil(total / CONNECTIONS_PER_CLIENT)
    per_group = math.ceil(total / groups)
    workers = args.storm_workers
    out: dict = {
        "connections_wanted": per_group * groups,
        "client_processes": groups,
        "workers": workers,
    }
    backends, clients, proc = [], [], None
    workdir = ctx.tmp / f"{target.name}-storm"
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        for _ in range(groups):
            port = h.free_port()
            backends.append(h.start_node_backend(port))
            backends[-1].port = port
        if target.kind == "portico":
            env = {
                **target.instance_env(ctx, "storm"),
                "REDIS_URL": args.redis_url,
                "PORTICO_LIMITS_STORAGE": args.redis_url,
            }
            suffixes = {f"storm{i}": f"ws://127.0.0.1:{b.port}/" for i, b in enumerate(backends)}
            h.add_apis(target.root, env, suffixes, {}, tuple(suffixes))
            port = h.free_port()
            key = target.info["primary_key"]
            urls = [f"ws://127.0.0.1:{port}/{s}?subscription-key={key}" for s in suffixes]

            def start():
                started = h.launch_portico(
                    target.root,
                    env,
                    port,
                    workdir / "portico.log",
                    workers=workers,
                    apis=len(suffixes) + h.BENCH_APIS,
                )
                h.bench_nodes._wait_workers(h, started, workers)
                return started
        else:  # nginx's workers in front of the same echo backends, in turn
            port = h.free_port()
            urls = [f"ws://127.0.0.1:{port}/"] * groups

            def start():
                started, _ = h.start_nginx(
                    ctx.nginx,
                    workdir,
                    port,
                    [b.port for b in backends],
                    ctx.nofile,
                    workers=workers,
                )
                return started

        proc = start()
        h.log(f"{target.label}: storm: opening {per_group * groups:,} connections")
        for i, url in enumerate(urls):
            config = {
                "url": url,
                "count": per_group,
                "concurrency": 16,
                "hold_seconds": 2 * OPEN_TIMEOUT,
                # A client timed out (10 s) in a queue retries; giving up after `per_group`
                # failures left connections out of "back" that the proxy had not refused.
                "max_errors": RETRIES_PER_CONNECTION * per_group,
                "retry_failed": True,
                "local_address": f"127.0.0.{100 + 20 * index + i}",
            }
            clients.append(StormClient(h, config, f"storm client {i}"))
        opened = [c.wait("open", OPEN_TIMEOUT) for c in clients]
        out["opened"] = sum(o.get("opened", 0) for o in opened)
        out["open_errors"] = sum(o.get("errors", 0) for o in opened)
        h.log(f"{target.label}: storm: {out['opened']:,} open; restarting the proxy")
        h.CHILDREN.stop(proc, timeout=30)
        h.CHILDREN.procs = [(n, p) for n, p in h.CHILDREN.procs if p is not proc]
        closed = [c.wait("closed", 120) for c in clients]
        out["still_open_after_stop"] = sum(c.get("still_open", 0) for c in closed)
        proc = start()
        pids = h.descendants(proc.pid) or [proc.pid]
        peak = [h.rss_kib(pids)]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(SAMPLE_EVERY):
                with contextlib.suppress(OSError):
                    peak.append(h.rss_kib(pids))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        h.log(f"{target.label}: storm: all reconnect at once")
        out["load1"] = os.getloadavg()[0]
        mine = [c.proc.pid for c in clients]  # the load clients starve too: their share shows it
        began, ticks, waited = time.monotonic(), h.ticks(pids), runq_ns(pids)
        client_ticks, client_waited = h.ticks(mine), runq_ns(mine)
        for client in clients:
            client.tell("go")
        back = [c.wait("back", OPEN_TIMEOUT) for c in clients]
        out["seconds"] = time.monotonic() - began
        # The proxy's own CPU from "go" until the last is back: the work per reconnect, which
        # the machine's other load does not change (the seconds it does).
        out["cpu_s"] = (h.ticks(pids) - ticks) / 100
        out["runq_s"] = (runq_ns(pids) - waited) / 1e9
        out["client_cpu_s"] = (h.ticks(mine) - client_ticks) / 100
        out["client_runq_s"] = (runq_ns(mine) - client_waited) / 1e9
        done.set()
        sampler.join()
        out["back"] = sum(b.get("back", 0) for b in back)
        out["errors"] = sum(b.get("errors", 0) for b in back) + (out["opened"] - out["back"])
        out["error_samples"] = [e for b in back for e in b.get("error_samples", [])][:10]
        out["peak_rss_mib"] = max(peak) / 1024
        out["cpu_ms_per_back"] = 1000 * out["cpu_s"] / max(1, out["back"])
        h.log(
            f"{target.label}: storm: {out['back']:,} back in {out['seconds']:.1f}s, "
            f"{out['errors']} failed, peak {out['peak_rss_mib']:.0f} MiB"
        )
    finally:
        for client in clients:
            client.finish()
        if proc is not None:
            h.forget(proc)
        h.forget(*backends)
    return out
