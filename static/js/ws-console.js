// The WebSocket test console shared by the publisher and developer pages (no build step).
//
// Markup: templates/includes/ws_console.html. Usage from a page:
//   import { mountConsole } from "/static/js/ws-console.js";
//   mountConsole(document.querySelector("[data-ws-console]"));
// The root element carries data-ticket-url: the same-origin endpoint (session + CSRF) that
// mints a single-use connect ticket for the chosen subscription or a pasted key, so no key is
// ever put in the page, the WebSocket URL or a DevTools line.

import { contractOf, matchReceived } from "./asyncapi-match.js";

const te = new TextEncoder();

function hexToBytes(text) {
  const clean = text.replace(/[\s:]/g, "");
  if (clean.length % 2 || /[^0-9a-f]/i.test(clean)) throw new Error("not valid hex");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.substr(i * 2, 2), 16);
  return out;
}

function base64ToBytes(text) {
  const raw = atob(text.trim());
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

export function buildUrl(base, param, value, extraQuery) {
  const url = new URL(base);
  for (const line of (extraQuery || "").split("\n")) {
    const trimmed = line.trim();
    if (!trimmed) continue;
    const eq = trimmed.indexOf("=");
    if (eq < 0) url.searchParams.append(trimmed, "");
    else url.searchParams.append(trimmed.slice(0, eq), trimmed.slice(eq + 1));
  }
  if (value) url.searchParams.set(param, value);
  return url.toString();
}

const MASKED = "•••";

function redact(url, param) {
  const u = new URL(url);
  if (u.searchParams.has(param)) u.searchParams.set(param, "SECRET");
  return u.toString().replace(`${encodeURIComponent(param)}=SECRET`, `${param}=${MASKED}`);
}

// Every text that reaches the log loses the ticket and any pasted key, whatever put it there
// (an error message quoting the URL, a backend echoing the query, a typed message).
function scrub(text, secrets) {
  if (!text) return text;
  let out = String(text);
  for (const secret of secrets) {
    if (!secret) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join(MASKED);
  }
  return out;
}

function csrfToken(root) {
  const input = root.querySelector("[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

// A connect ticket for the chosen subscription (or the pasted key), minted on use through the
// page's own ticket endpoint; "" when connecting without a key. Returns [ticket, param, pasted].
async function chosenTicket(root) {
  const select = root.querySelector('[data-role="key"]');
  const option = select.selectedOptions[0];
  if (!option || option.value === "") return ["", "", ""];
  const form = new FormData();
  let pasted = "";
  if (option.value === "@paste") {
    pasted = root.querySelector('[data-role="pasted-key"]').value.trim();
    form.append("key", pasted);
  } else {
    form.append("subscription", option.value);
  }
  const response = await fetch(root.dataset.ticketUrl, {
    method: "POST",
    body: form,
    headers: { "X-CSRFToken": csrfToken(root) },
    credentials: "same-origin",
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `cannot get a connect ticket (HTTP ${response.status})`);
  return [body.ticket, body.param, pasted];
}

// A page served over plain HTTP means a server without TLS: a wss:// URL to it cannot work, so
// it is not offered when a ws:// one exists, and the console says so where only wss:// exists.
function offerPlainWs(root, select) {
  if (window.location.protocol !== "http:") return;
  const options = Array.from(select.options);
  const plain = options.filter((o) => o.value.startsWith("ws://"));
  if (plain.length) {
    for (const option of options) if (!option.value.startsWith("ws://")) option.remove();
    select.value = plain[0].value;
  } else {
    const note = root.querySelector('[data-role="tls-note"]');
    if (note) note.hidden = false;
  }
}

// What a failed connection most likely means, when the gateway's probe could not say.
function failureHint(url) {
  const target = new URL(url);
  if (target.protocol === "wss:" && window.location.protocol === "http:") {
    return `The connection failed: ${target.host} answered no TLS (wss://) handshake. This site is served over plain HTTP, so its gateway most likely has no TLS: use a ws:// URL, or put TLS in front of the gateway.`;
  }
  return `The connection failed: no WebSocket handshake answer from ${target.host}. Check that the gateway is running and reachable at this address.`;
}

export function mountConsole(root) {
  const $ = (name) => root.querySelector(`[data-role="${name}"]`);
  const log = $("log");
  const status = $("status");
  const newestFirst = $("newest-first");
  let socket = null;
  let opened = false;
  const contract = contractOf(root); // the API's AsyncAPI messages, when it has some
  let secrets = []; // the current ticket and pasted key: masked in every log line

  function entry(kind, detail, size) {
    const li = document.createElement("li");
    li.className = `log-${kind.toLowerCase()}`;
    li.dataset.kind = kind;
    const time = new Date().toISOString().slice(11, 23);
    li.innerHTML = "<time></time> <strong></strong> <span class=size></span> <code></code>";
    li.querySelector("time").textContent = time;
    li.querySelector("strong").textContent = kind;
    li.querySelector(".size").textContent = size === undefined ? "" : `${size} B`;
    li.querySelector("code").textContent = scrub(detail, secrets);
    if (newestFirst && !newestFirst.checked) log.append(li);
    else log.prepend(li);
    return li;
  }

  function markMatches(li, text) {
    // Say which message of the AsyncAPI document a received message is (a structural match).
    if (!contract.receive.length) return;
    const names = matchReceived(contract.receive, text);
    const badge = document.createElement("span");
    badge.className = names.length ? "badge match" : "badge no-match";
    badge.dataset.matches = names.join(", ");
    badge.textContent = names.length ? `matches ${names.join(", ")}` : "matches no message of the contract";
    li.append(" ", badge);
  }

  // idle (nothing tried yet) and disconnected are neutral; only a failed attempt is red.
  const LABELS = {
    idle: "Not connected",
    connecting: "Connecting…",
    connected: "Connected",
    disconnected: "Disconnected",
    failed: "Connection failed",
  };
  function setState(state) {
    const connected = state === "connected";
    $("connect").disabled = state === "connecting" || connected;
    $("disconnect").disabled = !connected;
    $("send").disabled = !connected;
    status.textContent = LABELS[state];
    root.dataset.state = state;
  }
  async function explainFailure(url, param) {
    // Browsers hide why a handshake failed; the gateway's probe runs it again and says. A
    // ticket works once, so the probe gets a fresh one, and is POSTed so that the browser
    // sends this page's Origin (a console ticket is bound to it).
    try {
      const target = new URL(url);
      if (param) {
        const [fresh, , pasted] = await chosenTicket(root);
        secrets = [...secrets, fresh, pasted];
        target.searchParams.set(param, fresh);
      }
      const probe = new URL(`/_portico/probe${target.pathname}${target.search}`, target);
      probe.protocol = target.protocol === "wss:" ? "https:" : "http:";
      const response = await fetch(probe, { method: "POST", credentials: "omit" });
      const body = await response.json();
      if (body.statusCode && body.statusCode !== 101) {
        entry("Error", `Handshake refused: ${body.statusCode} ${body.message}`);
        return;
      }
    } catch (err) {
      /* the probe is best effort */
    }
    entry("Error", failureHint(url));
  }

  $("connect").addEventListener("click", async () => {
    setState("connecting");
    let ticket, param, pasted;
    try {
      [ticket, param, pasted] = await chosenTicket(root);
    } catch (err) {
      entry("Error", err.message);
      setState("failed");
      return;
    }
    secrets = [ticket, pasted];
    let url;
    try {
      url = buildUrl($("url").value, param, ticket, $("query").value);
    } catch (err) {
      entry("Error", err.message);
      setState("failed");
      return;
    }
    const protocols = $("protocols").value.split(",").map((p) => p.trim()).filter(Boolean);
    entry("Info", `Connecting to ${param ? redact(url, param) : url}`);
    try {
      socket = new WebSocket(url, protocols);
    } catch (err) {
      entry("Error", err.message);
      setState("failed");
      return;
    }
    socket.binaryType = "arraybuffer";
    opened = false;
    socket.addEventListener("open", () => {
      opened = true;
      setState("connected");
      entry("Connected", socket.protocol ? `subprotocol ${socket.protocol}` : "");
    });
    socket.addEventListener("message", (event) => {
      if (typeof event.data === "string") {
        markMatches(entry("Received", event.data, te.encode(event.data).length), event.data);
      } else {
        const bytes = new Uint8Array(event.data);
        entry("Received", `binary ${bytesToHex(bytes.slice(0, 64))}`, bytes.length);
      }
    });
    socket.addEventListener("close", (event) => {
      setState(opened ? "disconnected" : "failed");
      if (!opened) {
        explainFailure(url, param);
      } else {
        entry("Closed", `code ${event.code}${event.reason ? ` reason "${event.reason}"` : ""}`);
      }
      socket = null;
    });
  });

  $("disconnect").addEventListener("click", () => {
    if (socket) socket.close(1000, "closed from the console");
  });

  function send() {
    if (!socket) return;
    const text = $("message").value;
    const format = $("format").value;
    try {
      if (format === "text") {
        socket.send(text);
        entry("Sent", text, te.encode(text).length);
      } else {
        const bytes = format === "hex" ? hexToBytes(text) : base64ToBytes(text);
        socket.send(bytes);
        entry("Sent", `binary ${bytesToHex(bytes.slice(0, 64))}`, bytes.length);
      }
    } catch (err) {
      entry("Error", `Cannot send: ${err.message}`);
    }
  }

  $("send").addEventListener("click", send);
  $("message").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      send();
    }
  });

  const example = $("example");
  if (example) {
    example.addEventListener("change", () => {
      const chosen = contract.examples[Number(example.value)];
      if (!chosen || example.value === "") return;
      $("message").value = chosen.text;
      $("format").value = "text";
    });
  }
  $("key").addEventListener("change", () => {
    $("paste-field").hidden = $("key").value !== "@paste";
    if (!$("paste-field").hidden) $("pasted-key").focus();
  });
  if (newestFirst) {
    newestFirst.addEventListener("change", () => {
      log.replaceChildren(...Array.from(log.children).reverse());
    });
  }
  offerPlainWs(root, $("url"));

  $("clear").addEventListener("click", () => {
    log.replaceChildren();
  });
  setState("idle");
}

for (const root of document.querySelectorAll("[data-ws-console]")) mountConsole(root);
