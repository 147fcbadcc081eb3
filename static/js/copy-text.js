// Copy buttons for text shown once, such as a new node token: <button data-copy-from="ID">
// copies the text of the element with that id and says "Copied" (or "Copy failed") for a moment.

import { copyText } from "./clipboard.js";

function say(button, text) {
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  button.textContent = text;
  setTimeout(() => { button.textContent = label; }, 1500);
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy-from]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copyFrom);
  try {
    await copyText(source.textContent.trim());
    say(button, "Copied");
  } catch (err) {
    say(button, "Copy failed");
  }
});
