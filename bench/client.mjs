// The benchmark's load client: Node.js with the `ws` package, one process, one thread.
//
// Usage: node client.mjs '<json config>'. Progress lines go to stdout as "EVENT {json}", the
// result as one "RESULT {json}" line. Modes:
//   rtt        N connections, each: send one message, await its echo, repeat (round trips)
//   handshake  C parallel loops of connect + close
//   idle       open N connections, report, hold them until stdin says "close" (or a timeout)
// For rtt and handshake, the CPU time of the given pids (/proc/<pid>/stat utime+stime), of this
// client (process.cpuUsage) and of the whole machine (/proc/stat) is sampled at the exact start
// and end of the measured window, after the warm-up.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import WebSocket from "ws";
import { emit, openMany as openWith, sleep } from "./ws_clients.mjs";

const config = JSON.parse(process.argv[2]);
const CLK_TCK = 100; // USER_HZ on Linux

function procTicks(pid) {
  // [utime + stime, utime] (fields 14 and 15): user time is the proxy's own code, the rest the
  // kernel's work for it.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return [Number(fields[11]) + Number(fields[12]), Number(fields[11])];
  } catch {
    return null;
  }
}

function systemTicks() {
  const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1);
  const values = cpu.map(Number);
  const idle = values[3] + (values[4] || 0); // idle + iowait
  const total = values.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

function sample(pids) {
  const ticks = {};
  for (const pid of pids) ticks[pid] = procTicks(pid);
  const usage = process.cpuUsage();
  return {
    t: performance.now(),
    ticks,
    client_us: usage.user + usage.system,
    system: systemTicks(),
  };
}

function cpuWindow(start, end) {
  const seconds = (end.t - start.t) / 1000;
  const proxy = {};
  const user = {};
  let proxyTotal = 0;
  for (const pid of Object.keys(start.ticks)) {
    const a = start.ticks[pid];
    const b = end.ticks[pid];
    if (a == null || b == null) continue;
    proxy[pid] = ((b[0] - a[0]) / CLK_TCK) * 1000;
    user[pid] = ((b[1] - a[1]) / CLK_TCK) * 1000;
    proxyTotal += proxy[pid];
  }
  const sysBusy = end.system.busy - start.system.busy;
  const sysTotal = end.system.total - start.system.total;
  return {
    seconds,
    cpu_ms_by_pid: proxy,
    user_cpu_ms_by_pid: user,
    cpu_ms: proxyTotal,
    client_cpu_ms: (end.client_us - start.client_us) / 1000,
    client_cpu_pct: ((end.client_us - start.client_us) / 1e6 / seconds) * 100,
    machine_busy_pct: sysTotal > 0 ? (sysBusy / sysTotal) * 100 : null,
    machine_busy_ms: (sysBusy / CLK_TCK) * 1000,
  };
}

// Latency histogram: 1 µs buckets up to 1 s, then one overflow bucket.
class Histogram {
  constructor() {
    this.buckets = new Uint32Array(1_000_001);
    this.count = 0;
  }
  add(us) {
    this.buckets[Math.min(Math.max(0, Math.round(us)), 1_000_000)] += 1;
    this.count += 1;
  }
  quantile(q) {
    if (this.count === 0) return null;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i];
      if (seen >= rank) return i;
    }
    return this.buckets.length - 1;
  }
}

function wsOptions() {
  return {
    perMessageDeflate: false,
    headers: config.headers || {},
    maxPayload: 64 * 1024 * 1024,
    handshakeTimeout: 10_000,
    // Many connections to one port need several source addresses (about 28,000 ports each).
    ...(config.local_address ? { localAddress: config.local_address } : {}),
  };
}

function openMany(url, count, concurrency) {
  return openWith(url, count, concurrency, {
    options: wsOptions(),
    maxErrors: config.max_errors ?? 50,
    retry: Boolean(config.retry_failed),
  });
}

function closeAll(sockets, timeoutMs) {
  return Promise.race([
    Promise.all(
      sockets.map(
        (ws) =>
          new Promise((resolve) => {
            if (ws.readyState === WebSocket.CLOSED) return resolve();
            ws.once("close", resolve);
            ws.close(1000);
          }),
      ),
    ),
    sleep(timeoutMs),
  ]).then(() => {
    for (const ws of sockets) if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
  });
}

async function rtt() {
  const { url, connections, size, binary, warmup, duration, pids, max_messages } = config;
  const { sockets, errors } = await openMany(url, connections, 50);
  if (sockets.length < connections) {
    await closeAll(sockets, 2000);
    emit("RESULT", { error: `opened ${sockets.length}/${connections}`, errors: errors.slice(0, 5) });
    return;
  }
  // A given text payload (e.g. JSON a validate-message schema accepts), else size bytes of "a".
  const payload = config.payload ?? (binary ? Buffer.alloc(size, 0x61) : "a".repeat(size));
  const histogram = new Histogram();
  let measuring = false;
  let stopped = false;
  let messages = 0;
  let bytes = 0;
  let failures = 0;
  const loops = sockets.map(
    (ws) =>
      new Promise((resolve) => {
        let sentAt = 0;
        const send = () => {
          if (stopped || messages >= max_messages) return resolve();
          sentAt = performance.now();
          ws.send(payload, { binary: Boolean(binary) });
        };
        ws.on("message", (data) => {
          const now = performance.now();
          if (measuring) {
            histogram.add((now - sentAt) * 1000);
            messages += 1;
            bytes += data.length;
          }
          send();
        });
        ws.on("close", () => {
          if (!stopped) failures += 1;
          resolve();
        });
        send();
      }),
  );
  await sleep(warmup * 1000);
  const start = sample(pids);
  measuring = true;
  await Promise.race([Promise.all(loops), sleep(duration * 1000)]);
  const end = sample(pids);
  measuring = false;
  stopped = true;
  const win = cpuWindow(start, end);
  await Promise.race([Promise.all(loops), sleep(2000)]);
  await closeAll(sockets, 3000);
  emit("RESULT", {
    mode: "rtt",
    connections,
    size,
    binary: Boolean(binary),
    messages,
    bytes,
    failures,
    round_trips_per_s: messages / win.seconds,
    mb_per_s: bytes / 1e6 / win.seconds,
    p50_ms: histogram.quantile(0.5) / 1000,
    p99_ms: histogram.quantile(0.99) / 1000,
    max_ms: histogram.quantile(1) / 1000,
    ...win,
  });
}

async function handshake() {
  const { url, concurrency, warmup, duration, pids, max_handshakes } = config;
  const histogram = new Histogram();
  let measuring = false;
  let stopped = false;
  let done = 0;
  let total = 0;
  let errors = 0;
  const samples = [];
  const once = () =>
    new Promise((resolve) => {
      const began = performance.now();
      const ws = new WebSocket(url, wsOptions());
      let failed = false;
      ws.on("open", () => ws.close(1000));
      ws.on("error", (err) => {
        failed = true;
        if (samples.length < 5) samples.push(String(err.message || err));
      });
      ws.on("unexpected-response", (_req, res) => {
        failed = true;
        if (samples.length < 5) samples.push(`HTTP ${res.statusCode}`);
        ws.terminate();
      });
      ws.on("close", () => {
        if (failed) errors += 1;
        else if (measuring) {
          done += 1;
          histogram.add((performance.now() - began) * 1000);
        }
        resolve(failed);
      });
    });
  const loop = async () => {
    while (!stopped && total < max_handshakes) {
      total += 1;
      if (await once()) await sleep(50); // back off after a failure
      if (errors > 200) return;
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  await sleep(warmup * 1000);
  const start = sample(pids);
  measuring = true;
  await Promise.race([Promise.all(loops), sleep(duration * 1000)]);
  const end = sample(pids);
  measuring = false;
  stopped = true;
  await Promise.race([Promise.all(loops), sleep(5000)]);
  const win = cpuWindow(start, end);
  emit("RESULT", {
    mode: "handshake",
    concurrency,
    handshakes: done,
    errors,
    error_samples: samples,
    handshakes_per_s: done / win.seconds,
    p50_ms: histogram.quantile(0.5) / 1000,
    p99_ms: histogram.quantile(0.99) / 1000,
    ...win,
  });
}

async function idle() {
  const { url, count, concurrency, hold_seconds } = config;
  const began = performance.now();
  const { sockets, errors } = await openMany(url, count, concurrency);
  emit("EVENT", {
    event: "open",
    opened: sockets.length,
    errors: errors.length,
    error_samples: errors.slice(0, 5),
    seconds: (performance.now() - began) / 1000,
  });
  const lines = createInterface({ input: process.stdin });
  await Promise.race([
    new Promise((resolve) => lines.on("line", (line) => line.trim() === "close" && resolve())),
    new Promise((resolve) => lines.on("close", resolve)),
    sleep(hold_seconds * 1000),
  ]);
  lines.close();
  const stillOpen = sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length;
  await closeAll(sockets, 5000);
  emit("RESULT", { mode: "idle", opened: sockets.length, still_open: stillOpen });
}

// Reconnect storm (issue 31, item 5): open `count` connections, wait until the proxy's restart
// has closed them all, then on "go" reopen them all at once; report how long until all are back.
async function storm() {
  const { url, count, concurrency, hold_seconds } = config;
  const lines = createInterface({ input: process.stdin });
  const commands = [];
  let heard = null;
  lines.on("line", (line) => {
    commands.push(line.trim());
    if (heard) heard();
  });
  const command = (word) =>
    Promise.race([
      new Promise((resolve) => {
        heard = () => commands.includes(word) && resolve(true);
        heard();
      }),
      new Promise((resolve) => lines.on("close", () => resolve(false))),
      sleep(hold_seconds * 1000).then(() => false),
    ]);
  const first = await openMany(url, count, concurrency);
  emit("EVENT", {
    event: "open",
    opened: first.sockets.length,
    errors: first.errors.length,
    error_samples: first.errors.slice(0, 5),
  });
  const closings = first.sockets.map((ws) =>
    ws.readyState === WebSocket.CLOSED ? null : new Promise((resolve) => ws.once("close", resolve)),
  );
  await Promise.race([Promise.all(closings), sleep(hold_seconds * 1000)]);
  const stillOpen = first.sockets.filter((ws) => ws.readyState !== WebSocket.CLOSED).length;
  emit("EVENT", { event: "closed", still_open: stillOpen });
  if (!(await command("go"))) {
    lines.close();
    emit("RESULT", { mode: "storm", error: "no go" });
    return;
  }
  const began = performance.now();
  // All at once: one attempt per connection in flight; a failed one is counted and retried.
  const again = await openMany(url, count, count);
  emit("EVENT", {
    event: "back",
    back: again.sockets.length,
    errors: again.errors.length,
    error_samples: again.errors.slice(0, 5),
    seconds: (performance.now() - began) / 1000,
  });
  await command("close");
  lines.close();
  await closeAll(again.sockets, 5000);
  emit("RESULT", { mode: "storm", back: again.sockets.length, errors: again.errors.length });
}

const modes = { rtt, handshake, idle, storm };
modes[config.mode]()
  .then(() => process.exit(0))
  .catch((err) => {
    emit("RESULT", { error: String(err && err.stack ? err.stack : err) });
    process.exit(1);
  });
