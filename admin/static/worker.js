// The worker's page checks for new alerts (a dispatch to them) and reloads to show them.
"use strict";
(function () {
  const shown = document.querySelectorAll("#alerts .alert").length;
  async function check() {
    try {
      const response = await fetch("/console/worker/alerts", { credentials: "same-origin" });
      const data = await response.json();
      if ((data.alerts || []).length > shown) {
        if (navigator.vibrate) navigator.vibrate(300);
        location.reload();
      }
    } catch (err) { /* offline for a moment: try again at the next tick */ }
  }
  setInterval(check, 20000);
})();
