// Forms sent back with errors: a summary on top that links to each field in error, and focus
// moved to the first of them, so an error below the fold (on a phone) is never missed.
(function () {
  "use strict";

  function labelOf(field) {
    const label = field.labels && field.labels[0];
    if (label) return label.textContent.replace(/:\s*$/, "").trim();
    const legend = field.closest("fieldset") && field.closest("fieldset").querySelector("legend");
    return legend ? legend.textContent.trim() : field.name;
  }

  function messageOf(field) {
    const ids = (field.getAttribute("aria-describedby") || "").split(/\s+/);
    for (const id of ids) {
      const node = id && document.getElementById(id);
      if (node && node.classList.contains("errorlist")) return node.textContent.trim();
    }
    const group = field.closest(".field, p, div");
    const list = group && group.querySelector(".errorlist");
    return list ? list.textContent.trim() : "";
  }

  document.querySelectorAll("form").forEach(function (form) {
    const invalid = Array.from(form.querySelectorAll('[aria-invalid="true"]'));
    const general = form.querySelector(".errorlist.nonfield");
    if (!invalid.length && !general) return;
    const summary = document.createElement("div");
    summary.className = "error-summary";
    summary.setAttribute("role", "alert");
    summary.setAttribute("tabindex", "-1");
    summary.dataset.role = "error-summary";
    const count = invalid.length + (general ? 1 : 0);
    const heading = document.createElement("p");
    heading.innerHTML = "<strong></strong>";
    heading.firstChild.textContent =
      count === 1 ? "Please fix 1 problem:" : "Please fix " + count + " problems:";
    summary.appendChild(heading);
    const list = document.createElement("ul");
    if (general) {
      const item = document.createElement("li");
      item.textContent = general.textContent.trim();
      list.appendChild(item);
    }
    const seen = new Set();
    invalid.forEach(function (field) {
      if (!field.id || seen.has(field.name)) return;
      seen.add(field.name);
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = "#" + field.id;
      link.textContent = labelOf(field);
      link.addEventListener("click", function (event) {
        event.preventDefault();
        field.focus();
      });
      item.appendChild(link);
      const message = messageOf(field);
      if (message) item.appendChild(document.createTextNode(": " + message));
      list.appendChild(item);
    });
    summary.appendChild(list);
    form.insertBefore(summary, form.firstChild);
    const first = invalid[0];
    if (first && !document.querySelector("[data-error-focused]")) {
      first.dataset.errorFocused = "";
      first.focus();
    } else if (!document.querySelector("[data-error-focused]")) {
      summary.dataset.errorFocused = "";
      summary.focus();
    }
  });
})();
