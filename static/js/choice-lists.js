// Checkbox lists say what is chosen below the list, so a long, scrolled list hides nothing.
(function () {
  "use strict";
  for (const list of document.querySelectorAll("div.choice-list")) {
    const summary = document.createElement("p");
    summary.className = "choice-summary";
    summary.setAttribute("aria-live", "polite");
    list.after(summary);
    const render = () => {
      const chosen = Array.from(list.querySelectorAll("input:checked"), (input) =>
        input.closest("label").textContent.trim()
      );
      if (!list.querySelector("input")) summary.textContent = "Nothing to choose yet.";
      else summary.textContent = chosen.length ? `Selected: ${chosen.join(", ")}` : "None selected";
    };
    list.addEventListener("change", render);
    render();
  }
})();
