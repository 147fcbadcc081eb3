// Publisher API form: fill the name from the display name, and preview the gateway URL live.
(function () {
  "use strict";

  // The same rules as Django's slugify(): ASCII letters, digits, "_" and "-", lower case.
  function slugify(text) {
    return text
      .normalize("NFKD")
      .replace(/[^\x00-\x7f]/g, "")
      .toLowerCase()
      .replace(/[^\w\s-]/g, "")
      .replace(/[-\s]+/g, "-")
      .replace(/^[-_]+|[-_]+$/g, "")
      .slice(0, 80);
  }

  const form = document.querySelector("form.api-form");
  if (!form) return;
  const displayName = form.querySelector('[name="display_name"]');
  const name = form.querySelector('[name="name"]');
  const scheme = form.querySelector('[name="url_scheme"]');
  const suffix = form.querySelector('[name="url_suffix"]');
  const preview = document.getElementById("gateway-url-preview");

  // The name follows the display name until the publisher types a name of their own.
  if (displayName && name) {
    let auto = name.value === "" || name.value === slugify(displayName.value);
    displayName.addEventListener("input", () => {
      if (auto) name.value = slugify(displayName.value);
    });
    name.addEventListener("input", () => {
      auto = name.value === "";
    });
  }

  function renderPreview() {
    if (!preview || !scheme || !suffix) return;
    const host = preview.dataset.host || window.location.host;
    const path = suffix.value.trim().replace(/^\/+/, "");
    const schemes = { ws: ["ws"], wss: ["wss"], both: ["ws", "wss"] }[scheme.value] || ["ws"];
    preview.replaceChildren(
      ...schemes.map((s) => {
        const li = document.createElement("li");
        const code = document.createElement("code");
        code.textContent = `${s}://${host}/${path}`;
        li.append(code);
        return li;
      })
    );
  }
  if (scheme) scheme.addEventListener("change", renderPreview);
  if (suffix) suffix.addEventListener("input", renderPreview);
  renderPreview();
})();
