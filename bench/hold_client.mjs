// Hold client for bench/hundred_k.py: opens N idle connections from one source address, holds
// them, and answers commands on stdin (one per line) with "EVENT {json}" lines on stdout:
//   status      how many are still open
//   check N     one round trip (16 B text) on N of the open ones, in parallel, 30 s bound
//   close       close them all, print "RESULT {json}" and exit
// Usage: node hold_client.mjs '{"url": ..., "count": N, "concurrency": C, "local_address": A,
//                               "hold_seconds": S, "max_errors": E}'
// Bounded: at most max_errors failed opens (each retried), at most hold_seconds held.
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import WebSocket from "ws";
import { emit, openMany, sleep } from "./ws_clients.mjs";

const config = JSON.parse(process.argv[2]);

function roundTrip(ws, timeoutMs) {
  return new Promise((resolve) => {
    const payload = `rt-${Math.random().toString(36).slice(2, 14)}`.padEnd(16, "x");
    const timer = setTimeout(() => done(false), timeoutMs);
    const onMessage = (data) => done(data.toString() === payload);
    function done(ok) {
      clearTimeout(timer);
      ws.off("message", onMessage);
      resolve(ok);
    }
    ws.on("message", onMessage);
    ws.send(payload);
  });
}

const began = performance.now();
const { sockets, errors } = await openMany(config.url, config.count, config.concurrency, {
  options: { perMessageDeflate: false, handshakeTimeout: 20_000, localAddress: config.local_address },
  maxErrors: config.max_errors,
  retry: true, // each failed open is tried again, bounded by max_errors
  retryPauseMs: 200,
});
emit("EVENT", {
  event: "open",
  opened: sockets.length,
  errors: errors.length,
  error_samples: [...new Set(errors)].slice(0, 5),
  seconds: (performance.now() - began) / 1000,
});
const openNow = () => sockets.filter((ws) => ws.readyState === WebSocket.OPEN);

const lines = createInterface({ input: process.stdin });
const finished = new Promise((resolve) => {
  lines.on("line", async (line) => {
    const [word, arg] = line.trim().split(/\s+/);
    if (word === "status") emit("EVENT", { event: "status", open: openNow().length });
    else if (word === "check") {
      const live = openNow();
      const sample = live.filter((_, i) => i % Math.max(1, Math.floor(live.length / Number(arg))) === 0).slice(0, Number(arg));
      const t0 = performance.now();
      const results = await Promise.all(sample.map((ws) => roundTrip(ws, 30_000)));
      const ok = results.filter(Boolean).length;
      emit("EVENT", {
        event: "check",
        open: live.length,
        checked: sample.length,
        ok,
        seconds: (performance.now() - t0) / 1000,
      });
    } else if (word === "close") resolve();
  });
  lines.on("close", resolve);
});
await Promise.race([finished, sleep(config.hold_seconds * 1000)]);
const stillOpen = openNow().length;
for (const ws of sockets) ws.terminate(); // a hard close: 100,000 closing handshakes take minutes
emit("RESULT", { opened: sockets.length, still_open: stillOpen });
process.exit(0);
