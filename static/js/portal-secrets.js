// Developer portal: show/hide keys and copy keys or code samples (no build step).
//
// Pages carry no key. A masked key is <span|code class="secret">MASK</span> inside an element
// with data-keys-url; Show and Copy POST there (session cookie + CSRF token) for
// {"primary": ..., "secondary": ...}, and Hide puts the mask back.
//   [data-reveal-secrets]  toggles every key in its section (the code samples: primary key).
//   [data-copy-sample]     copies its .code-sample's code with the real key filled in.
//   [data-key-row=WHICH]   holds one key with [data-reveal-key] and [data-copy-key] buttons.

import { copyText } from "./clipboard.js";

const MASK = "••••••••••••";

function csrfToken(element) {
  const input = element.closest("[data-keys-url]").querySelector("[name=csrfmiddlewaretoken]")
    || document.querySelector("[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

async function readKeys(element) {
  const holder = element.closest("[data-keys-url]");
  const response = await fetch(holder.dataset.keysUrl, {
    method: "POST",
    headers: { "X-CSRFToken": csrfToken(element) },
    credentials: "same-origin",
    cache: "no-store",
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

function which(secret) {
  const row = secret.closest("[data-key-row]");
  return row ? row.dataset.keyRow : "primary";
}

async function toggle(button, secrets) {
  const shown = button.getAttribute("aria-pressed") !== "true";
  const keys = shown ? await readKeys(button) : null;
  secrets.forEach((secret) => {
    secret.textContent = shown ? keys[which(secret)] : MASK;
    secret.dataset.revealed = shown ? "true" : "false";
  });
  button.setAttribute("aria-pressed", String(shown));
  button.textContent = shown ? button.textContent.replace("Show", "Hide") : button.textContent.replace("Hide", "Show");
}

async function plainText(button, element) {
  const copy = element.cloneNode(true);
  const secrets = copy.querySelectorAll(".secret");
  if (secrets.length) {
    const keys = await readKeys(button);
    secrets.forEach((secret) => { secret.textContent = keys[which(secret)]; });
  }
  return copy.textContent;
}

function flash(button, text) {
  const label = button.textContent;
  button.textContent = text;
  setTimeout(() => { button.textContent = label; }, 1500);
}

async function copyWithFeedback(button, readText) {
  try {
    await copyText(await readText());
    flash(button, "Copied");
  } catch (err) {
    flash(button, "Copy failed");
  }
}

async function toggleWithFeedback(button, secrets) {
  try {
    await toggle(button, secrets);
  } catch (err) {
    flash(button, "Failed");
  }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  if (button.matches("[data-reveal-secrets]")) {
    const scope = button.closest("section") || document;
    toggleWithFeedback(button, scope.querySelectorAll(".secret"));
  } else if (button.matches("[data-copy-sample]")) {
    const code = button.closest(".code-sample").querySelector("pre");
    copyWithFeedback(button, () => plainText(button, code));
  } else if (button.matches("[data-reveal-key]")) {
    toggleWithFeedback(button, [button.closest("[data-key-row]").querySelector(".secret")]);
  } else if (button.matches("[data-copy-key]")) {
    const row = button.closest("[data-key-row]");
    copyWithFeedback(button, async () => (await readKeys(button))[row.dataset.keyRow]);
  }
});
