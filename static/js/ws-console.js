// The WebSocket test console shared by the publisher and developer pages (no build step).
//
// Markup: templates/includes/ws_console.html. Usage from a page:
//   import { mountConsole } from "/static/js/ws-console.js";
//   mountConsole(document.querySelector("[data-ws-console]"));
// The root element carries data-key-param (the API's query parameter for the key).

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

export function buildUrl(base, keyParam, key, extraQuery) {
  const url = new URL(base);
  for (const line of (extraQuery || "").split("\n")) {
    const trimmed = line.trim();
    if (!trimmed) continue;
    const eq = trimmed.indexOf("=");
    if (eq < 0) url.searchParams.append(trimmed, "");
    else url.searchParams.append(trimmed.slice(0, eq), trimmed.slice(eq + 1));
  }
  if (key) url.searchParams.set(keyParam, key);
  return url.toString();
}

const MASKED = "•••";

function redact(url, keyParam) {
  const u = new URL(url);
  if (u.searchParams.has(keyParam)) u.searchParams.set(keyParam, "KEY");
  return u.toString().replace(`${encodeURIComponent(keyParam)}=KEY`, `${keyParam}=${MASKED}`);
}

// Every text that reaches the log loses the key, whatever put it there (an error message
// quoting the URL, a backend echoing the query, a typed message).
function scrub(text, key) {
  if (!key || !text) return text;
  let out = String(text);
  for (const form of new Set([key, encodeURIComponent(key)])) out = out.split(form).join(MASKED);
  return out;
}

function csrfToken(root) {
  const input = root.querySelector("[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

// The key chosen in the console: a key in the page, a pasted one, or one read on use
// through the publisher's audited key endpoint.
async function chosenKey(root) {
  const select = root.querySelector('[data-role="key"]');
  const option = select.selectedOptions[0];
  if (!option || option.value === "") return "";
  if (option.value === "@paste") return root.querySelector('[data-role="pasted-key"]').value.trim();
  if (option.dataset.keysUrl) {
    const response = await fetch(option.dataset.keysUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken(root) },
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error(`cannot read the key (HTTP ${response.status})`);
    return (await response.json())[option.dataset.which];
  }
  return option.value;
}

// On a page served over plain HTTP the gateway has no TLS either: prefer a ws:// URL.
function preferPlainWs(select) {
  if (window.location.protocol !== "http:") return;
  const plain = Array.from(select.options).find((o) => o.value.startsWith("ws://"));
  if (plain) select.value = plain.value;
}

export function mountConsole(root) {
  const $ = (name) => root.querySelector(`[data-role="${name}"]`);
  const keyParam = root.dataset.keyParam || "subscription-key";
  const log = $("log");
  const status = $("status");
  const newestFirst = $("newest-first");
  let socket = null;
  let opened = false;
  const contract = contractOf(root); // the API's AsyncAPI messages, when it has some
  let currentKey = "";

  function entry(kind, detail, size) {
    const li = document.createElement("li");
    li.className = `log-${kind.toLowerCase()}`;
    li.dataset.kind = kind;
    const time = new Date().toISOString().slice(11, 23);
    li.innerHTML = "<time></time> <strong></strong> <span class=size></span> <code></code>";
    li.querySelector("time").textContent = time;
    li.querySelector("strong").textContent = kind;
    li.querySelector(".size").textContent = size === undefined ? "" : `${size} B`;
    li.querySelector("code").textContent = scrub(detail, currentKey);
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

  function setState(state) {
    const connected = state === "connected";
    $("connect").disabled = state !== "disconnected";
    $("disconnect").disabled = !connected;
    $("send").disabled = !connected;
    status.textContent = { connected: "Connected", connecting: "Connecting…" }[state] || "Disconnected";
    root.dataset.state = state;
  }
  async function explainFailure(url) {
    // Browsers hide why a handshake failed; the gateway's probe runs it again and says.
    try {
      const target = new URL(url);
      const probe = new URL(`/_portico/probe${target.pathname}${target.search}`, target);
      probe.protocol = target.protocol === "wss:" ? "https:" : "http:";
      const response = await fetch(probe, { credentials: "omit" });
      const body = await response.json();
      if (body.statusCode && body.statusCode !== 101) {
        entry("Error", `Handshake refused: ${body.statusCode} ${body.message}`);
        return;
      }
    } catch (err) {
      /* the probe is best effort */
    }
    entry("Error", "The connection failed.");
  }

  $("connect").addEventListener("click", async () => {
    setState("connecting");
    let key;
    try {
      key = await chosenKey(root);
    } catch (err) {
      entry("Error", err.message);
      setState("disconnected");
      return;
    }
    currentKey = key;
    let url;
    try {
      url = buildUrl($("url").value, keyParam, key, $("query").value);
    } catch (err) {
      entry("Error", err.message);
      setState("disconnected");
      return;
    }
    const protocols = $("protocols").value.split(",").map((p) => p.trim()).filter(Boolean);
    entry("Info", `Connecting to ${redact(url, keyParam)}`);
    try {
      socket = new WebSocket(url, protocols);
    } catch (err) {
      entry("Error", err.message);
      setState("disconnected");
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
      setState("disconnected");
      if (!opened) {
        explainFailure(url);
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
  preferPlainWs($("url"));

  $("clear").addEventListener("click", () => {
    log.replaceChildren();
  });
  setState("disconnected");
}

for (const root of document.querySelectorAll("[data-ws-console]")) mountConsole(root);
