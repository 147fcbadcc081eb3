// A login flood for the two-roles benchmark: C parallel loops, each fetching the portal's sign-in
// page (for its CSRF token) and posting a wrong password, for a bounded number of seconds.
// Usage: node login_flood.mjs '<json config>' -> one "RESULT {json}" line at the end.
import { performance } from "node:perf_hooks";

const { base, concurrency, seconds } = JSON.parse(process.argv[2]);
const deadline = performance.now() + seconds * 1000;
let attempts = 0;
let errors = 0;

async function attempt(i) {
  const page = await fetch(`${base}/accounts/login/`);
  const html = await page.text();
  const cookie = (page.headers.get("set-cookie") || "").match(/csrftoken=([^;]+)/);
  const token = html.match(/name="csrfmiddlewaretoken" value="([^"]+)"/);
  if (!cookie || !token) throw new Error(`no CSRF token (HTTP ${page.status})`);
  const body = new URLSearchParams({
    csrfmiddlewaretoken: token[1],
    username: `flood${i}`,
    password: `wrong-${attempts}`,
  });
  const answer = await fetch(`${base}/accounts/login/`, {
    method: "POST",
    body,
    redirect: "manual",
    headers: { cookie: `csrftoken=${cookie[1]}`, referer: `${base}/accounts/login/` },
  });
  await answer.arrayBuffer();
}

async function loop(i) {
  while (performance.now() < deadline) {
    try {
      await attempt(i);
      attempts += 1;
    } catch {
      errors += 1;
      if (errors > 1000) return;
    }
  }
}

const started = performance.now();
await Promise.all(Array.from({ length: concurrency }, (_, i) => loop(i)));
const elapsed = (performance.now() - started) / 1000;
process.stdout.write(
  `RESULT ${JSON.stringify({ attempts, errors, seconds: elapsed, per_s: attempts / elapsed })}\n`,
);
