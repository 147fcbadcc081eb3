// Publisher subscription keys: Show and Copy read both keys with one POST that the server
// writes to the audit log, so every reveal is recorded; nothing is cached in the page.
(function () {
  "use strict";

  function csrfToken(root) {
    const input = root.querySelector("[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  async function readKeys(root, cell) {
    const response = await fetch(cell.dataset.keysUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken(root) },
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.json();
  }

  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    const area = document.createElement("textarea");
    area.value = text;
    area.style.position = "fixed";
    area.style.left = "-9999px";
    document.body.append(area);
    area.select();
    const copied = document.execCommand("copy");
    area.remove();
    if (!copied) throw new Error("copy refused");
  }

  function flash(button, text) {
    const label = button.textContent;
    button.textContent = text;
    setTimeout(() => { button.textContent = label; }, 1500);
  }

  for (const root of document.querySelectorAll("[data-publisher-keys]")) {
    root.addEventListener("click", async (event) => {
      const button = event.target.closest("button[data-show-key], button[data-copy-key]");
      if (!button) return;
      const row = button.closest("[data-key-row]");
      const cell = button.closest("[data-keys-url]");
      const secret = row.querySelector(".secret");
      if (button.matches("[data-show-key]") && button.getAttribute("aria-pressed") === "true") {
        secret.textContent = secret.dataset.masked;
        secret.dataset.revealed = "false";
        button.setAttribute("aria-pressed", "false");
        button.textContent = "Show";
        return;
      }
      try {
        const keys = await readKeys(root, cell);
        const key = keys[row.dataset.keyRow];
        if (button.matches("[data-show-key]")) {
          secret.textContent = key;
          secret.dataset.revealed = "true";
          button.setAttribute("aria-pressed", "true");
          button.textContent = "Hide";
        } else {
          await copyText(key);
          flash(button, "Copied");
        }
      } catch (err) {
        flash(button, "Failed");
      }
    });
  }
})();
