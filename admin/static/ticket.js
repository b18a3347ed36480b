// The ticket page: show what the resident will be told before the state change is sent.
"use strict";
(function () {
  const number = document.getElementById("ticket-script").dataset.number;
  const form = document.getElementById("state-form");
  const box = document.getElementById("notice-preview");
  let timer = null;
  async function refresh() {
    const params = new URLSearchParams({ state: form.state.value, tell: form.tell.value });
    const response = await fetch(`/console/api/tickets/${encodeURIComponent(number)}/preview?${params}`,
      { credentials: "same-origin" });
    const data = await response.json().catch(() => ({}));
    box.textContent = data.text || data.message || "";
  }
  function later() { clearTimeout(timer); timer = setTimeout(refresh, 250); }
  form.state.addEventListener("change", refresh);
  form.tell.addEventListener("input", later);
  refresh();
})();
