// Publisher Live pages: the open connections table follows the gateways by itself. Every few
// seconds it asks its own page for the table alone (?partial=table, rendered by the server's
// template), so a closed connection leaves the table and times stay current without Refresh.
(function () {
  "use strict";
  const EVERY_MS = 3000;

  document.addEventListener("DOMContentLoaded", () => {
    const holder = document.querySelector("[data-live-refresh]");
    if (!holder) return;
    const url = new URL(holder.getAttribute("data-live-refresh"), window.location.href);
    url.searchParams.set("partial", "table");

    async function update() {
      if (document.hidden) return; // a background tab need not poll
      // Someone tabbing to a Close button keeps their place: skip this round.
      if (holder.contains(document.activeElement)) return;
      try {
        const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
        if (!response.ok) return; // e.g. signed out: keep what is shown, try again later
        const html = await response.text();
        if (!holder.contains(document.activeElement)) holder.innerHTML = html;
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
