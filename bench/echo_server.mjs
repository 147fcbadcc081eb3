// The benchmark's echo backend: a Node.js `ws` server in its own process (one thread), so that
// the backend costs a few microseconds per message and is not what limits the proxies.
// Usage: node echo_server.mjs PORT [HOST]   (prints "READY <port>" once listening; HOST
// defaults to 127.0.0.1)
import { WebSocketServer } from "ws";

const port = Number(process.argv[2] || 0);
const server = new WebSocketServer({
  host: process.argv[3] || "127.0.0.1",
  port,
  backlog: 4096,
  perMessageDeflate: false,
  maxPayload: 64 * 1024 * 1024,
  clientTracking: false,
});

server.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on("error", () => {});
});

server.on("listening", () => {
  process.stdout.write(`READY ${server.address().port}\n`);
});

for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => process.exit(0));
}
// Never outlive the harness: exit when stdin (a pipe from run.py) closes.
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
