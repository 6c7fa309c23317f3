// The Usage tab: draw the aggregated series (embedded in the page as JSON) with chart.js.
(function () {
  "use strict";
  const periods = JSON.parse(document.getElementById("usage-data").textContent);
  const common = {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    interaction: { mode: "index", intersect: false },
    scales: { y: { beginAtZero: true } },
  };

  function draw(id, type, labels, datasets, stacked) {
    const options = JSON.parse(JSON.stringify(common));
    if (stacked) options.scales = { x: { stacked: true }, y: { stacked: true, beginAtZero: true } };
    return new Chart(document.getElementById(id), { type, data: { labels, datasets }, options });
  }

  periods.forEach((period) => {
    const id = (name) => `chart-${period.key}-${name}`;
    const ok = period.executions.map((count, i) => count - period.failures[i]);
    draw(id("executions"), "bar", period.labels, [
      { label: "Completed", data: ok, backgroundColor: "#2e7d32" },
      { label: "Failed", data: period.failures, backgroundColor: "#c62828" },
    ], true);
    draw(id("duration"), "line", period.labels, [
      { label: "p50", data: period.p50, borderColor: "#1565c0", tension: 0.2 },
      { label: "p95", data: period.p95, borderColor: "#ef6c00", tension: 0.2 },
    ]);
    draw(id("builds"), "bar", period.labels, [
      { label: "Average build time", data: period.builds, backgroundColor: "#6a1b9a" },
    ]);
  });
})();
