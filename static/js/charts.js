// Metrics and usage charts (templates/apis/telemetry/chart.html): hover, tap or focus a plot to
// read one time bucket's values in a tooltip; with the keyboard, arrow keys move between buckets.
// The values come from the chart's own table view, so the page holds them once and works
// without this script (the table stays available under "Values as a table").

const GAP = 12; // px between the guide line and the tooltip

for (const figure of document.querySelectorAll("figure[data-chart]")) wire(figure);

function wire(figure) {
  const plot = figure.querySelector(".chart-plot");
  const tip = figure.querySelector(".chart-tooltip");
  const table = figure.querySelector("table.chart-values");
  if (!plot || !tip || !table) return;
  const heads = [...table.tHead.rows[0].cells].slice(1);
  const rows = [...table.tBodies[0].rows];
  if (!rows.length) return;
  const last = rows.length - 1;
  const guide = document.createElement("div");
  guide.className = "chart-guide";
  guide.hidden = true;
  const dots = heads.map((head) => {
    const dot = document.createElement("span");
    dot.className = `chart-dot s-${head.dataset.css}`;
    dot.hidden = true;
    plot.append(dot);
    return dot;
  });
  plot.append(guide);
  plot.tabIndex = 0;
  plot.setAttribute("role", "group");
  plot.setAttribute(
    "aria-label",
    `${figure.dataset.chart}: hover, tap or use the left and right arrow keys to read each time's values`,
  );
  let current = last;

  function show(index) {
    current = Math.max(0, Math.min(last, index));
    const cells = [...rows[current].cells];
    const x = last ? current / last : 0;
    tip.replaceChildren(line("strong", `${cells[0].textContent} UTC`));
    heads.forEach((head, i) => {
      const item = document.createElement("span");
      item.className = `s-${head.dataset.css}`;
      const key = document.createElement("span");
      key.className = "chart-key";
      key.setAttribute("aria-hidden", "true");
      const text = line("span", `${head.textContent}: `);
      text.append(line("b", cells[i + 1].textContent));
      item.append(key, text);
      tip.append(item);
      dots[i].style.left = `${x * 100}%`;
      dots[i].style.top = `${cells[i + 1].dataset.top}%`;
      dots[i].hidden = false;
    });
    guide.style.left = `${x * 100}%`;
    guide.hidden = false;
    tip.hidden = false;
    // Beside the guide line, on the side with more room, and never past the plot's edges.
    const width = plot.clientWidth;
    const at = x * width;
    const size = tip.offsetWidth;
    const left = at + GAP + size <= width ? at + GAP : at - GAP - size;
    tip.style.left = `${Math.max(0, Math.min(width - size, left))}px`;
  }

  function hide() {
    tip.hidden = true;
    guide.hidden = true;
    for (const dot of dots) dot.hidden = true;
  }

  function indexAt(clientX) {
    const box = plot.getBoundingClientRect();
    return Math.round(((clientX - box.left) / box.width) * last);
  }

  plot.addEventListener("pointermove", (event) => show(indexAt(event.clientX)));
  plot.addEventListener("pointerdown", (event) => show(indexAt(event.clientX)));
  plot.addEventListener("pointerleave", () => {
    if (document.activeElement !== plot) hide();
  });
  plot.addEventListener("focus", () => show(current));
  plot.addEventListener("blur", hide);
  plot.addEventListener("keydown", (event) => {
    const moves = { ArrowLeft: current - 1, ArrowRight: current + 1, Home: 0, End: last };
    if (event.key in moves) {
      event.preventDefault();
      show(moves[event.key]);
    } else if (event.key === "Escape") {
      hide();
    }
  });
}

function line(tag, text) {
  const element = document.createElement(tag);
  element.textContent = text;
  return element;
}
