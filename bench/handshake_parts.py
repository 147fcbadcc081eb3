"""Where a handshake's CPU goes, by part, from one or more cProfile files of handshake_profile.py.

Run: .venv/bin/python bench/handshake_parts.py BEFORE.prof [AFTER.prof ...]
Prints profiled µs per handshake (CPU clock, main thread) for each part of one handshake, side
by side; asserts nothing. The profiler inflates Python calls several times more than C work
(syscalls, uvloop), so compare shares and the same part across files, not absolute times.
"""

from __future__ import annotations

import pstats
import sys


class Profile:
    def __init__(self, path: str) -> None:
        self.stats = pstats.Stats(path).stats  # type: ignore[attr-defined]
        self.handshakes = self.calls("handshake/request.py", "start_handshake") or 1

    def _rows(self, where: str, name: str) -> list:
        return sorted(
            (key[1], value)
            for key, value in self.stats.items()
            if where in key[0] and key[2] == name
        )

    def cum(self, where: str, name: str) -> float:
        return sum(value[3] for _, value in self._rows(where, name))

    def own(self, where: str, name: str) -> float:
        return sum(value[2] for _, value in self._rows(where, name))

    def calls(self, where: str, name: str) -> int:
        return sum(value[1] for _, value in self._rows(where, name))

    def first(self, where: str, name: str) -> float:
        """The cumulative time of the first function of that name in the file (by line)."""
        rows = self._rows(where, name)
        return rows[0][1][3] if rows else 0.0

    def parts(self) -> list[tuple[str, float]]:
        c = self.cum
        # websocket.accept: uvicorn's send (main before issue 31) or the gateway's own 101.
        accept = c("websockets_sansio_impl.py", "send") + c("server/protocols.py", "_accept")
        client = (
            c("httptools_impl.py", "data_received")  # parse, upgrade, scope, run_asgi task
            + self.first("server/protocols.py", "__init__")  # GatewayHttpProtocol's
            + self.first("server/protocols.py", "connection_made")
            + accept
        )
        consumer = c("gateway/consumer.py", "__call__")
        # run_asgi: uvicorn's (before issue 31) or the gateway's copy of it.
        asgi = c("websockets_sansio_impl.py", "run_asgi") + c("server/protocols.py", "run_asgi")
        asgi -= consumer
        resolve = c("handshake/request.py", "start_handshake") + c("catalog/store.py", "current")
        policies = c("handshake/policies.py", "run_policies")
        opening = c("backend/open.py", "open_backend")
        backend = (
            opening
            + c("backend/leg.py", "connection_made")
            + c("backend/leg.py", "_handshake_data")
        )
        takeover = c("relay/tunnel.py", "start_tunnel") + c("server/protocols.py", "hand_over")
        close = (
            c("relay/frames.py", "data_received")
            + c("relay/frames.py", "connection_lost")
            + c("server/protocols.py", "connection_lost")
        )
        recording = (
            c("telemetry/recorder.py", "begin")
            + c("telemetry/attempt.py", "accepted")
            + c("telemetry/attempt.py", "closed")
            + c("node/revocation.py", "add")
            + c("node/revocation.py", "remove")
        )
        # The consumer's and open_connection's own work: what their named parts leave.
        glue = consumer - accept - c("relay/tunnel.py", "start_tunnel") - recording
        glue -= resolve + policies + opening
        return [
            ("client leg: HTTP parse, upgrade, scope, 101", client),
            ("ASGI/Channels layers (routers, as_asgi)", asgi),
            ("resolve: route, key, headers, query", resolve),
            ("onHandshake policies (JWT, rate limit)", policies),
            ("backend leg open: request, connect, 101 check", backend),
            ("tunnel take-over", takeover),
            ("close of both legs", close),
            ("recording: attempt, counters, live registry", recording),
            ("consumer and connect glue (awaits, objects)", glue),
            ("uvloop and syscalls (the loop's own time)", self.own("asyncio/runners.py", "run")),
        ]


def main(paths: list[str]) -> None:
    profiles = [Profile(path) for path in paths]
    if not profiles:
        sys.exit(__doc__)
    print(
        f"{'profiled µs per handshake':48s}"
        + "".join(f"{f'#{i + 1}':>15s}" for i in range(len(profiles)))
    )
    tables = [(p, p.parts()) for p in profiles]
    for row, (name, _) in enumerate(tables[0][1]):
        cells = ""
        for profile, parts in tables:
            total = sum(value for _, value in parts) or 1.0
            value = parts[row][1]
            cells += f"{value / profile.handshakes * 1e6:8.0f} ({value / total * 100:3.0f}%)"
        print(f"{name:48s}{cells}")
    sums = "".join(
        f"{sum(v for _, v in parts) / p.handshakes * 1e6:8.0f}       " for p, parts in tables
    )
    print(f"{'sum':48s}{sums}")
    print("handshakes profiled:", ", ".join(str(p.handshakes) for p in profiles))


if __name__ == "__main__":
    main(sys.argv[1:])
