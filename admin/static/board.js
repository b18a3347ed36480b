// The ticket board's SLA countdowns keep counting without a reload.
"use strict";
(function () {
  const started = Date.now();
  function text(seconds) {
    const minutes = Math.floor(Math.abs(seconds) / 60);
    const span = minutes >= 60 ? `${Math.floor(minutes / 60)}小时${minutes % 60}分` : `${minutes}分钟`;
    return seconds >= 0 ? `剩余 ${span}` : `超时 ${span}`;
  }
  function tick() {
    const gone = Math.floor((Date.now() - started) / 1000);
    document.querySelectorAll("td.sla[data-seconds]").forEach((cell) => {
      if (cell.dataset.seconds === "") return;
      const left = Number(cell.dataset.seconds) - gone;
      cell.textContent = `${cell.dataset.kind} ${text(left)}`;
      cell.closest("tr").classList.toggle("overdue", left < 0);
    });
  }
  setInterval(tick, 30000);
})();
