// Policy editor: line numbers, XML highlighting (a <pre> drawn under a transparent textarea),
// completion of the supported policies' element and attribute names, a snippet picker, and a
// note when the effective policy shown no longer matches the text being edited.
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
  const highlight = root.querySelector('[data-role="highlight"]');
  const completions = root.querySelector('[data-role="completions"]');
  const vocabularyNode = document.getElementById("policy-vocabulary");
  const vocabulary = vocabularyNode ? JSON.parse(vocabularyNode.textContent) : {};
  const unsavedNote = document.querySelector('[data-role="unsaved-note"]');
  const saved = textarea.value;
  // Text sent back with an error was never saved: leaving it must warn as well.
  const rejected = Boolean(root.querySelector('[aria-invalid="true"], .form-errors'));
  let submitting = false;
  root.addEventListener("submit", function () {
    submitting = true;
  });
  // Leaving with unsaved changes (a link, a tab, closing the page) asks first.
  window.addEventListener("beforeunload", function (event) {
    if (submitting || (!rejected && textarea.value === saved)) return;
    event.preventDefault();
    event.returnValue = "";
  });

  function escapeHtml(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function span(kind, text) {
    return `<span class="x-${kind}">${escapeHtml(text)}</span>`;
  }

  // A small XML tokenizer: enough to colour tags, attributes, values and comments as typed,
  // including unfinished ones.
  function highlighted(text) {
    let out = "";
    let i = 0;
    while (i < text.length) {
      const lt = text.indexOf("<", i);
      if (lt < 0) {
        out += escapeHtml(text.slice(i));
        break;
      }
      out += escapeHtml(text.slice(i, lt));
      if (text.startsWith("<!--", lt)) {
        const end = text.indexOf("-->", lt + 4);
        const stop = end < 0 ? text.length : end + 3;
        out += span("comment", text.slice(lt, stop));
        i = stop;
        continue;
      }
      const open = /^<\/?/.exec(text.slice(lt))[0];
      out += span("punct", open);
      i = lt + open.length;
      const name = /^[\w:.-]*/.exec(text.slice(i))[0];
      out += span("tag", name);
      i += name.length;
      while (i < text.length && text[i] !== "<") {
        const rest = text.slice(i);
        let m;
        if ((m = /^\/?>/.exec(rest))) {
          out += span("punct", m[0]);
          i += m[0].length;
          break;
        } else if ((m = /^[\w:.-]+/.exec(rest))) {
          out += span("attr", m[0]);
        } else if ((m = /^("[^"]*"?|'[^']*'?)/.exec(rest))) {
          out += span("value", m[0]);
        } else {
          m = [rest[0]];
          out += escapeHtml(m[0]);
        }
        i += m[0].length;
      }
    }
    return out + "\n"; // a last empty line still has a height
  }

  function renderHighlight() {
    if (!highlight) return;
    highlight.innerHTML = highlighted(textarea.value);
    highlight.scrollTop = textarea.scrollTop;
    highlight.scrollLeft = textarea.scrollLeft;
  }

  // What could complete the text before the cursor: element names after "<", attribute
  // names inside an opening tag (not inside a quoted value).
  function candidates() {
    const before = textarea.value.slice(0, textarea.selectionStart);
    const element = /<([\w-]*)$/.exec(before);
    if (element) {
      const prefix = element[1];
      return {
        prefix,
        kind: "element",
        names: Object.keys(vocabulary).filter((n) => n.startsWith(prefix) && n !== prefix),
      };
    }
    const lt = before.lastIndexOf("<");
    if (lt < 0 || before.lastIndexOf(">") > lt) return null;
    const inside = before.slice(lt + 1);
    const tag = /^([\w-]+)\s/.exec(inside);
    if (!tag || (inside.split('"').length - 1) % 2 === 1) return null;
    const attr = /\s([\w-]*)$/.exec(inside);
    if (!attr) return null;
    const prefix = attr[1];
    const used = new Set(Array.from(inside.matchAll(/([\w-]+)\s*=/g), (m) => m[1]));
    const names = (vocabulary[tag[1]] || []).filter(
      (n) => n.startsWith(prefix) && !used.has(n)
    );
    return { prefix, kind: "attribute", names };
  }

  let offered = null;

  function hideCompletions() {
    offered = null;
    if (completions) completions.hidden = true;
  }

  function renderCompletions() {
    if (!completions) return;
    const found = candidates();
    if (!found || !found.names.length) {
      hideCompletions();
      return;
    }
    offered = found;
    completions.replaceChildren(
      ...found.names.slice(0, 12).map((name, index) => {
        const option = document.createElement("button");
        option.type = "button";
        option.className = "small secondary";
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", String(index === 0));
        option.dataset.name = name;
        option.textContent = name;
        return option;
      })
    );
    completions.hidden = false;
  }

  function accept(name) {
    if (!offered) return;
    const start = textarea.selectionStart;
    const rest = name.slice(offered.prefix.length);
    if (offered.kind === "attribute") {
      textarea.setRangeText(`${rest}=""`, start, textarea.selectionEnd, "end");
      textarea.setSelectionRange(textarea.selectionStart - 1, textarea.selectionStart - 1);
    } else {
      textarea.setRangeText(rest, start, textarea.selectionEnd, "end");
    }
    hideCompletions();
    textarea.focus();
    changed();
  }

  function changed() {
    renderGutter();
    renderHighlight();
    if (unsavedNote) unsavedNote.hidden = textarea.value === saved;
  }

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
    changed();
  }

  textarea.addEventListener("input", () => {
    changed();
    renderCompletions();
  });
  textarea.addEventListener("click", renderCompletions);
  textarea.addEventListener("keyup", (event) => {
    if (event.key.startsWith("Arrow") || event.key === "Home" || event.key === "End") {
      renderCompletions();
    }
  });
  textarea.addEventListener("keydown", (event) => {
    if (!offered) return;
    if (event.key === "Tab" && !event.shiftKey) {
      event.preventDefault();
      accept(offered.names[0]);
    } else if (event.key === "Escape") {
      event.preventDefault();
      hideCompletions();
    }
  });
  if (completions) {
    completions.addEventListener("mousedown", (event) => event.preventDefault()); // keep focus
    completions.addEventListener("click", (event) => {
      const option = event.target.closest("[data-name]");
      if (option) accept(option.dataset.name);
    });
  }
  textarea.addEventListener("scroll", () => {
    gutter.scrollTop = textarea.scrollTop;
    if (highlight) {
      highlight.scrollTop = textarea.scrollTop;
      highlight.scrollLeft = textarea.scrollLeft;
    }
  });
  if (insert) insert.addEventListener("click", insertSnippet);
  if (highlight) root.querySelector(".code-editor").classList.add("highlighting");
  changed();
})();
