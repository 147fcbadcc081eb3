"""The tracing rows of the benchmark (issue 28): what OpenTelemetry tracing costs a gateway.

Two fresh `run_gateway` processes of the new Portico on copies of one catalog, one without an
OTLP endpoint (tracing off), one exporting to a local OTLP sink (tracing on: every handshake sampled
and exported) and one sampling 1 trace in 10 (`parentbased_traceidratio`, 0.1). In interleaved
rounds (off, on, sampled, off, ...) each gets the handshake test
(8 connect+close loops, key only) and the rtt test (50 connections x 64 B text); each round's
on/off ratio is taken between neighbours in time.

`h` is the harness module (bench/run.py): its child-process, client and CPU helpers.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class OtlpSink:
    """Accepts OTLP/HTTP exports on a loopback port and throws them away (counting them)."""

    def __init__(self) -> None:
        self.requests = 0
        self.bytes = 0
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                size = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(size)
                sink.requests += 1
                sink.bytes += size
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def tracing_rounds(h, ctx, new, add) -> None:
    """Adds per round: tracing_<mode>_handshake/_rtt for off, on, sampled; tracing_ratio."""
    args = ctx.args
    sink = OtlpSink()
    key = new.info["primary_key"]
    started = []
    try:
        targets = {}
        for mode in ("off", "on", "sampled"):
            env = new.instance_env(ctx, f"tracing-{mode}")
            if mode != "off":
                env["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink.endpoint
            if mode == "sampled":  # the usual production set-up: 1 trace in 10 recorded
                env["OTEL_TRACES_SAMPLER"] = "parentbased_traceidratio"
                env["OTEL_TRACES_SAMPLER_ARG"] = "0.1"
            port = h.free_port()
            proc = h.launch_portico(
                new.root, env, port, ctx.tmp / f"tracing-{mode}.log", apis=h.BENCH_APIS
            )
            started.append(proc)
            targets[mode] = (
                f"ws://127.0.0.1:{port}/echo?subscription-key={key}",
                h.descendants(proc.pid),
            )
        bound = args.warmup + args.duration + 60
        for number in range(1, args.rounds + 1):
            figures = {}
            for mode, (url, pids) in targets.items():
                h.log(f"portico (tracing {mode}), round {number}: handshakes, then round trips")
                every = [*pids, ctx.backend_pid]
                hs = h.measure_handshakes(url, every, pids, ctx.backend_pid, args, bound)
                rtt = h.measure_rtt(url, every, pids, ctx.backend_pid, args, bound)
                add(new, f"tracing_{mode}_handshake", hs)
                add(new, f"tracing_{mode}_rtt", rtt)
                figures[mode] = (
                    hs.get("proxy_cpu_ms_per_handshake"),
                    rtt.get("proxy_cpu_us_per_relayed_msg"),
                )
            (hs_off, msg_off), (hs_on, msg_on) = figures["off"], figures["on"]
            hs_sampled, msg_sampled = figures["sampled"]
            add(
                new,
                "tracing_ratio",
                {
                    "handshake_ratio": hs_on / hs_off if hs_on and hs_off else None,
                    "message_ratio": msg_on / msg_off if msg_on and msg_off else None,
                    "sampled_handshake_ratio": (
                        hs_sampled / hs_off if hs_sampled and hs_off else None
                    ),
                    "sampled_message_ratio": (
                        msg_sampled / msg_off if msg_sampled and msg_off else None
                    ),
                    "exports": sink.requests,
                    "exported_bytes": sink.bytes,
                },
            )
    finally:
        for proc in started:
            h.forget(proc)
        sink.close()
