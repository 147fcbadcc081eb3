// Live connection lists follow the gateways by themselves. Every few seconds the page asks
// itself for its live parts, rendered by the server's templates, so a closed connection leaves
// the table and times stay current without Refresh.
// - Publisher Live pages: one holder, filled with ?partial=table.
// - A developer's usage page: several holders (data-live-part="now", "table") filled from one
//   ?partial=live answer, so the "Now:" line and the table always agree.
(function () {
  "use strict";
  const EVERY_MS = 3000;

  document.addEventListener("DOMContentLoaded", () => {
    const holders = Array.from(document.querySelectorAll("[data-live-refresh]"));
    if (!holders.length) return;
    const parted = holders.every((holder) => holder.dataset.livePart);
    const url = new URL(holders[0].getAttribute("data-live-refresh"), window.location.href);
    url.searchParams.set("partial", parted ? "live" : "table");
    // Someone tabbing to a Close button keeps their place: skip this round.
    const busy = () => holders.some((holder) => holder.contains(document.activeElement));

    function fill(html) {
      if (!parted) {
        holders[0].innerHTML = html;
        return;
      }
      const answer = document.createElement("template");
      answer.innerHTML = html;
      for (const holder of holders) {
        const part = answer.content.querySelector(`[data-live-part="${holder.dataset.livePart}"]`);
        if (part) holder.innerHTML = part.innerHTML;
      }
    }

    async function update() {
      if (document.hidden || busy()) return; // a background tab need not poll
      try {
        const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
        if (!response.ok) return; // e.g. signed out: keep what is shown, try again later
        const html = await response.text();
        if (!busy()) fill(html);
      } catch (error) {
        // Offline for a moment: the next round tries again.
      }
    }

    setInterval(update, EVERY_MS);
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) update();
    });
  });
})();
