"""The tracing rows of the benchmark (issue 28): what OpenTelemetry tracing costs a gateway.

Four fresh `run_gateway` processes of the new Portico on copies of one catalog: tracing off (no
OTLP endpoint), on (every handshake sampled and exported to a local OTLP sink), and 1 in 10 and
1 in 100 sampled (`parentbased_traceidratio`). In interleaved rounds (off, on, 10%, 1%, then
the reverse order) each gets the handshake test (8 connect+close loops, key only) and the rtt
test (50 connections x 64 B text); each round's ratios to "off" are taken within the round.
Target (issue 28): every handshake traced costs at most 1.1x the handshake CPU of tracing off;
per relayed message nothing (1.0x, within the machine's noise).

Run directly (`.venv/bin/python bench/tracing.py`), it measures in process, with a CPU clock,
what each part of a traced handshake costs: the SDK's floor per span, per attribute, the
exporter's encoding and HTTP post, and the gateway's own `HandshakeTrace` (three spans).

`h` is the harness module (bench/run.py): its child-process, client and CPU helpers.
"""

from __future__ import annotations

import os
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


def thread_cpu_ms(pid: int) -> tuple[float, float]:
    """CPU ms (utime+stime) of a process's main thread and of its other threads together."""
    tick = 1000 / os.sysconf("SC_CLK_TCK")
    main = other = 0.0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
        ms = (int(fields[11]) + int(fields[12])) * tick  # utime, stime
        if int(tid) == pid:
            main += ms
        else:
            other += ms
    return main, other


# mode: (OTEL_TRACES_SAMPLER_ARG, or None for every handshake), row label
MODES = {
    "on": (None, "every handshake"),
    "sampled": ("0.1", "1 in 10"),
    "sampled1": ("0.01", "1 in 100"),
}


def split(hs: dict, before: list, after: list) -> None:
    """The handshake CPU split by thread: the event loop's (main) and the others' (the span
    exporter's encoding and posts, the connection-log writer's), by their shares over the test."""
    main = sum(a[0] - b[0] for a, b in zip(after, before, strict=True))
    other = sum(a[1] - b[1] for a, b in zip(after, before, strict=True))
    total = hs.get("proxy_cpu_ms_per_handshake")
    if total and main + other > 0:
        hs["main_thread_ms_per_handshake"] = total * main / (main + other)
        hs["other_threads_ms_per_handshake"] = total * other / (main + other)


def tracing_rounds(h, ctx, new, add) -> None:
    """Adds per round: tracing_<mode>_handshake/_rtt for off and each of MODES; tracing_ratio."""
    args = ctx.args
    sink = OtlpSink()
    key = new.info["primary_key"]
    started = []
    try:
        targets = {}
        for mode in ("off", *MODES):
            env = new.instance_env(ctx, f"tracing-{mode}")
            if mode != "off":
                env["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink.endpoint
                ratio = MODES[mode][0]
                if ratio is not None:  # the documented production set-up
                    env["OTEL_TRACES_SAMPLER"] = "parentbased_traceidratio"
                    env["OTEL_TRACES_SAMPLER_ARG"] = ratio
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
            order = list(targets) if number % 2 else list(reversed(targets))
            for mode in order:
                url, pids = targets[mode]
                h.log(f"portico (tracing {mode}), round {number}: handshakes, then round trips")
                every = [*pids, ctx.backend_pid]
                before = [thread_cpu_ms(pid) for pid in pids]
                hs = h.measure_handshakes(url, every, pids, ctx.backend_pid, args, bound)
                split(hs, before, [thread_cpu_ms(pid) for pid in pids])
                rtt = h.measure_rtt(url, every, pids, ctx.backend_pid, args, bound)
                add(new, f"tracing_{mode}_handshake", hs)
                add(new, f"tracing_{mode}_rtt", rtt)
                figures[mode] = (
                    hs.get("proxy_cpu_ms_per_handshake"),
                    rtt.get("proxy_cpu_us_per_relayed_msg"),
                )
            hs_off, msg_off = figures["off"]
            ratios = {"exports": sink.requests, "exported_bytes": sink.bytes}
            for mode in MODES:
                hs, msg = figures[mode]
                prefix = "" if mode == "on" else f"{mode}_"
                ratios[f"{prefix}handshake_ratio"] = hs / hs_off if hs and hs_off else None
                ratios[f"{prefix}message_ratio"] = msg / msg_off if msg and msg_off else None
            add(new, "tracing_ratio", ratios)
    finally:
        for proc in started:
            h.forget(proc)
        sink.close()


def rows(Row) -> list:  # noqa: N803 - the harness's class
    """The report's tracing rows; the handshake ratios carry issue 28's target (1.1x off)."""
    out = [
        Row(
            "CPU ms / handshake, tracing off",
            "tracing_off_handshake",
            "proxy_cpu_ms_per_handshake",
            "{:.3f}",
        ),
        Row(
            "CPU us / relayed msg, tracing off",
            "tracing_off_rtt",
            "proxy_cpu_us_per_relayed_msg",
            "{:.2f}",
        ),
    ]
    for mode in ("off", "on"):  # where a handshake's CPU goes: the event loop, other threads
        for field, name in (
            ("main_thread", "event-loop thread"),
            ("other_threads", "other threads"),
        ):
            out.append(
                Row(
                    f"  of which {name}, tracing {mode}",
                    f"tracing_{mode}_handshake",
                    f"{field}_ms_per_handshake",
                    "{:.3f}",
                )
            )
    for mode, (_, label) in MODES.items():
        prefix = "" if mode == "on" else f"{mode}_"
        out += [
            Row(
                f"CPU ms / handshake, {label} traced",
                f"tracing_{mode}_handshake",
                "proxy_cpu_ms_per_handshake",
                "{:.3f}",
            ),
            Row(
                f"  handshake CPU / off, {label}",
                "tracing_ratio",
                f"{prefix}handshake_ratio",
                "{:.3f}",
                at_most=1.1,
            ),
            Row(
                f"CPU us / relayed msg, {label} traced",
                f"tracing_{mode}_rtt",
                "proxy_cpu_us_per_relayed_msg",
                "{:.2f}",
            ),
            Row(
                f"  relayed-msg CPU / off, {label} (1.0 = nothing)",
                "tracing_ratio",
                f"{prefix}message_ratio",
                "{:.3f}",
            ),
        ]
    return out


# -- in-process parts: run this file ------------------------------------------------------------


class _Attempt:
    """What a telemetry Attempt tells a HandshakeTrace (a key-only handshake, closed at once)."""

    api_name, api_id, product_id, product_name, subscription_id = "echo", 7, 3, "starter", 11
    client_ip, done = "127.0.0.1", False

    def __init__(self) -> None:
        import time
        from types import SimpleNamespace

        self.started = time.perf_counter()
        self.stats = SimpleNamespace(
            close_code=1000, closed_by="client", messages_up=0, messages_down=0,
            bytes_up=0, bytes_down=0, messages_dropped=0,
        )  # fmt: skip

    def saw(self, snapshot) -> None: ...
    def identify(self, handshake) -> None: ...
    def backend_connecting(self) -> None: ...
    def backend_connected(self) -> None: ...
    def accepted(self, stats, handshake_ms) -> None: ...

    def closed(self) -> None:
        self.done = True


def _handshakes(tracing, n: int) -> None:
    from types import SimpleNamespace

    scope = {"type": "websocket", "path": "/echo", "headers": [(b"host", b"gw")]}
    request = SimpleNamespace(headers={"x-correlation-id": "c"}, base="ws://127.0.0.1:9000/echo")
    handshake = SimpleNamespace(backend=request)
    for _ in range(n):
        attempt = tracing.begin(scope).wrap(_Attempt())
        attempt.saw(None)
        attempt.identify(handshake)
        attempt.backend_connecting()
        attempt.backend_connected()
        attempt.accepted(None, 1.0)
        attempt.closed()


def parts(count: int) -> None:
    """Prints µs of CPU per part of one traced handshake, in this process (no asserts)."""
    import sys
    import time
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
    from opentelemetry.trace import SpanContext, TraceFlags

    from gateway.telemetry.tracing import Tracing

    class Keep(SpanExporter):
        def __init__(self) -> None:
            self.spans: list = []

        def export(self, spans) -> SpanExportResult:
            self.spans.extend(spans)
            return SpanExportResult.SUCCESS

    def cpu_us(work, n: int, per: float = 1.0) -> float:
        work(min(n, 200))  # warm
        start = time.thread_time()
        work(n)
        return (time.thread_time() - start) / (n * per) * 1e6

    print(f"load average {open('/proc/loadavg').read().split()[0]}; {count} handshakes per figure")
    print("µs of CPU (this thread), per item:")
    provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
    provider.add_span_processor(BatchSpanProcessor(Keep(), max_queue_size=1 << 20))
    tracer = provider.get_tracer("bench")

    def live(n: int) -> None:
        for _ in range(n):
            tracer.start_span("x").end()

    flags, resource = TraceFlags(TraceFlags.SAMPLED), provider.resource

    def readable(n: int) -> None:
        for i in range(n):
            context = SpanContext(i + 1, i + 1, is_remote=False, trace_flags=flags)
            ReadableSpan("x", context, resource=resource, start_time=1, end_time=2)

    rows = [
        ("SDK live span, no attributes (start_span + end, batch processor)", cpu_us(live, count)),
        (
            "SDK ReadableSpan built finished (the gateway's way), no attributes",
            cpu_us(readable, count),
        ),
    ]
    keep = Keep()
    tracing = Tracing(gateway="managed", node="bench", exporter=keep)
    tracing.processor._batch_processor._max_queue_size = 1 << 20  # keep every span for encoding
    rows.append(
        (
            "gateway HandshakeTrace: 3 spans of one handshake",
            cpu_us(lambda n: _handshakes(tracing, n), count),
        )
    )
    tracing.shutdown()
    for sampler, arg, label in (
        ("always_off", "", "not sampled"),
        ("traceidratio", "0.1", "1 in 10"),
    ):
        os.environ["OTEL_TRACES_SAMPLER"], os.environ["OTEL_TRACES_SAMPLER_ARG"] = sampler, arg
        sampled = Tracing(gateway="managed", node="bench", exporter=Keep())
        us = cpu_us(lambda n, t=sampled: _handshakes(t, n), count)
        rows.append((f"gateway HandshakeTrace, {label}", us))
        sampled.shutdown()
    del os.environ["OTEL_TRACES_SAMPLER"], os.environ["OTEL_TRACES_SAMPLER_ARG"]
    batch = keep.spans[-510:]  # one default-size export: 170 handshakes
    bare = [
        ReadableSpan(
            "x",
            s.context,
            resource=s.resource,
            start_time=1,
            end_time=2,
            instrumentation_scope=s.instrumentation_scope,
        )
        for s in batch
    ]
    tagged = [
        ReadableSpan(
            "x",
            s.context,
            resource=s.resource,
            attributes={f"a{k}": "v" for k in range(10)},
            start_time=1,
            end_time=2,
            instrumentation_scope=s.instrumentation_scope,
        )
        for s in batch
    ]
    rounds = max(1, count // 170)

    def encode(spans):
        return lambda n: [encode_spans(spans).SerializeToString() for _ in range(n)]

    per_span = cpu_us(encode(bare), rounds, 510)
    rows.append(("OTLP encoding (library), per span without attributes", per_span))
    rows.append(
        ("OTLP encoding, per attribute", (cpu_us(encode(tagged), rounds, 510) - per_span) / 10)
    )
    rows.append(
        ("OTLP encoding of one gateway handshake (3 spans)", cpu_us(encode(batch), rounds, 170))
    )
    sink = OtlpSink()
    try:
        exporter = OTLPSpanExporter(endpoint=f"{sink.endpoint}/v1/traces")
        export = cpu_us(lambda n: [exporter.export(batch) for _ in range(n)], rounds, 170)
    finally:
        sink.close()
    rows.append(("exporter.export() of one handshake's spans (encoding + HTTP post)", export))
    for label, us in rows:
        print(f"  {label:72s} {us:7.1f}")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="what each part of a traced handshake costs")
    parser.add_argument("--handshakes", type=int, default=5000)
    parts(parser.parse_args().handshakes)
