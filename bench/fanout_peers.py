"""The fan-out benchmark's peers (issue 26), one role per process:

- `backend PORT`: a WebSocket backend that relays each message received on /pub to every
  connection on /sub (`websockets.broadcast`), for the WebSocket-backend API row;
- `clients JSON`: N subscribers on one URL; prints `OPEN n` once all are open, then counts the
  messages and their publish-to-client latency (each message carries `"t"`, the publisher's
  time.time_ns()) until its stdin says `stop`, and prints `RESULT {...}`.

Every wait is bounded; the harness (bench/event_sources.py) starts and stops them by PID.
"""

import asyncio
import json
import sys
import time

import websockets


async def backend(port: int) -> None:
    subscribers: set = set()

    async def handler(ws) -> None:
        path = ws.request.path
        if path.startswith("/pub"):
            async for message in ws:
                websockets.broadcast(subscribers, message)
            return
        subscribers.add(ws)
        try:
            await ws.wait_closed()
        finally:
            subscribers.discard(ws)

    async with websockets.serve(handler, "127.0.0.1", port, compression=None, max_queue=4):
        await asyncio.Future()


def latency_of(message, now_ns: int) -> float | None:
    """ms from the publisher's clock to now, from an envelope or a raw payload."""
    try:
        body = json.loads(message)
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("data"), dict):
        body = body["data"]  # the event source's envelope: {"id", "subject", "data"}
    t = body.get("t") if isinstance(body, dict) else None
    if isinstance(t, str):
        t = int(t)
    return (now_ns - t) / 1e6 if isinstance(t, int) else None


async def clients(config: dict) -> None:
    url, count = config["url"], config["count"]
    latencies: list[float] = []  # bounded: every 10th message of each connection
    received = 0
    sockets = []
    sem = asyncio.Semaphore(config.get("concurrency", 32))

    async def open_one():
        async with sem:
            for _ in range(5):
                try:
                    return await websockets.connect(
                        url, open_timeout=60, compression=None, max_queue=64, ping_interval=None
                    )
                except (OSError, websockets.WebSocketException, TimeoutError):
                    await asyncio.sleep(0.5)
            return None

    async def read(ws) -> None:
        nonlocal received
        seen = 0
        try:
            async for message in ws:
                received += 1
                seen += 1
                if seen % 10 == 1 and len(latencies) < 200_000:
                    value = latency_of(message, time.time_ns())
                    if value is not None:
                        latencies.append(value)
        except websockets.ConnectionClosed:
            pass

    opened = await asyncio.gather(*(open_one() for _ in range(count)))
    sockets = [ws for ws in opened if ws is not None]
    readers = [asyncio.create_task(read(ws)) for ws in sockets]
    print(f"OPEN {len(sockets)}", flush=True)
    loop = asyncio.get_running_loop()
    command = await loop.run_in_executor(None, sys.stdin.readline)
    counted = received
    latencies.sort()

    def pct(p: float) -> float | None:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else None

    result = {
        "opened": len(sockets),
        "received": counted,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "samples": len(latencies),
        "command": command.strip(),
    }
    for ws in sockets:
        ws.transport.abort()
    for task in readers:
        task.cancel()
    print("RESULT " + json.dumps(result), flush=True)


def main() -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    role = sys.argv[1]
    if role == "backend":
        asyncio.run(backend(int(sys.argv[2])))
    else:
        asyncio.run(clients(json.loads(sys.argv[2])))


if __name__ == "__main__":
    main()
