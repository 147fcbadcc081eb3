// Developer portal: show/hide masked keys and copy keys or code samples (no build step).
//
// A masked secret is <span|code class="secret" data-secret="VALUE">MASK</span>.
//   [data-reveal-secrets]  toggles every secret in its section (the code samples).
//   [data-copy-sample]     copies its .code-sample's code with the real key filled in.
//   [data-key-row]         holds one key with [data-reveal-key] and [data-copy-key] buttons.

const MASK = "••••••••••••";

function reveal(secret, shown) {
  secret.textContent = shown ? secret.dataset.secret : MASK;
  secret.dataset.revealed = shown ? "true" : "false";
}

function toggle(button, secrets) {
  const shown = button.getAttribute("aria-pressed") !== "true";
  secrets.forEach((secret) => reveal(secret, shown));
  button.setAttribute("aria-pressed", String(shown));
  button.textContent = shown ? button.textContent.replace("Show", "Hide") : button.textContent.replace("Hide", "Show");
}

function plainText(element) {
  const copy = element.cloneNode(true);
  copy.querySelectorAll(".secret").forEach((secret) => { secret.textContent = secret.dataset.secret; });
  return copy.textContent;
}

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.left = "-9999px";
  document.body.append(area);
  area.select();
  const copied = document.execCommand("copy");
  area.remove();
  if (!copied) throw new Error("copy refused");
}

async function copyWithFeedback(button, text) {
  const label = button.textContent;
  try {
    await copyText(text);
    button.textContent = "Copied";
  } catch (err) {
    button.textContent = "Copy failed";
  }
  setTimeout(() => { button.textContent = label; }, 1500);
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  if (button.matches("[data-reveal-secrets]")) {
    const scope = button.closest("section") || document;
    toggle(button, scope.querySelectorAll(".secret"));
  } else if (button.matches("[data-copy-sample]")) {
    copyWithFeedback(button, plainText(button.closest(".code-sample").querySelector("pre")));
  } else if (button.matches("[data-reveal-key]")) {
    toggle(button, [button.closest("[data-key-row]").querySelector(".secret")]);
  } else if (button.matches("[data-copy-key]")) {
    copyWithFeedback(button, button.closest("[data-key-row]").querySelector(".secret").dataset.secret);
  }
});
