// Policy editor: line numbers beside the document and a snippet picker that inserts at the cursor.
(function () {
  "use strict";

  const root = document.querySelector("[data-policy-editor]");
  const dataNode = document.getElementById("policy-snippets");
  if (!root) return;
  const textarea = root.querySelector("textarea");
  const gutter = root.querySelector('[data-role="gutter"]');
  const picker = root.querySelector('[data-role="snippet"]');
  const insert = root.querySelector('[data-role="insert"]');
  const snippets = dataNode ? JSON.parse(dataNode.textContent) : [];
  const errorLine = Number(root.dataset.errorLine || 0);

  function renderGutter() {
    const count = textarea.value.split("\n").length;
    const lines = [];
    for (let i = 1; i <= count; i++) {
      lines.push(i === errorLine ? `<span class="error-line">${i}</span>` : String(i));
    }
    gutter.innerHTML = lines.join("\n");
    gutter.scrollTop = textarea.scrollTop;
  }

  // Indent every line after the first like the line the cursor is on.
  function indentLike(text, before) {
    const lineStart = before.lastIndexOf("\n") + 1;
    const indent = before.slice(lineStart).match(/^\s*/)[0];
    return text.replace(/\n(?=.)/g, `\n${indent}`);
  }

  function insertSnippet() {
    const snippet = snippets[Number(picker.value)];
    if (!snippet) return;
    if (textarea.value.trim() === "") {
      textarea.value = snippet.document;
      textarea.setSelectionRange(0, 0);
    } else {
      const start = textarea.selectionStart;
      const before = textarea.value.slice(0, start);
      const text = indentLike(snippet.policy.replace(/\n$/, ""), before);
      textarea.setRangeText(text, start, textarea.selectionEnd, "end");
    }
    textarea.focus();
    renderGutter();
  }

  textarea.addEventListener("input", renderGutter);
  textarea.addEventListener("scroll", () => {
    gutter.scrollTop = textarea.scrollTop;
  });
  if (insert) insert.addEventListener("click", insertSnippet);
  renderGutter();
})();
