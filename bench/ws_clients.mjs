// What the bench's Node clients (client.mjs, hold_client.mjs) share: their output lines, and
// opening one WebSocket connection or many with bounded concurrency and a bounded error count.
import WebSocket from "ws";

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// One line "KIND {json}" on stdout: the harness reads EVENT and RESULT lines.
export function emit(kind, data) {
  process.stdout.write(`${kind} ${JSON.stringify(data)}\n`);
}

// An open connection, or a rejection with the error (or "HTTP <status>" for a refused upgrade).
export function open(url, options) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { ...options });
    ws.binaryType = "nodebuffer";
    const fail = (err) => reject(err instanceof Error ? err : new Error(String(err)));
    ws.once("open", () => {
      ws.off("error", fail);
      ws.on("error", () => {});
      resolve(ws);
    });
    ws.once("error", fail);
    ws.once("unexpected-response", (_req, res) => fail(new Error(`HTTP ${res.statusCode}`)));
  });
}

// `count` connections, at most `concurrency` opening at once. Once more than `maxErrors` opens
// have failed no worker starts another (something is wrong); with `retry` a failed connection is
// tried again, after `retryPauseMs`.
export async function openMany(url, count, concurrency, opening) {
  const { options, maxErrors, retry, retryPauseMs = 0 } = opening;
  const sockets = [];
  const errors = [];
  let next = 0;
  async function worker() {
    while (next < count && errors.length <= maxErrors) {
      next += 1;
      try {
        sockets.push(await open(url, options));
      } catch (err) {
        errors.push(String(err.message || err));
        if (errors.length > maxErrors) return;
        if (retry) {
          next -= 1;
          if (retryPauseMs) await sleep(retryPauseMs);
        }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { sockets, errors };
}
