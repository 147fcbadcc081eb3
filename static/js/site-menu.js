// The top menu collapses behind a "Menu" button on narrow screens (CSS decides when).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", () => {
    const button = document.querySelector("[data-menu-toggle]");
    const menu = button && document.getElementById(button.getAttribute("aria-controls"));
    if (!menu) return;
    button.addEventListener("click", () => {
      const open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", String(open));
      menu.classList.toggle("open", open);
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        button.click();
        button.focus();
      }
    });
  });
})();
