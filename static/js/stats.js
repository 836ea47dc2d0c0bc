// Statistics page: draws the charts from the JSON the view embeds
// (#stats-series, #stats-labels) with the vendored Chart.js.
(function () {
  "use strict";
  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  function draw() {
    if (typeof Chart === "undefined") { return; }
    var s = data("stats-series");
    var t = data("stats-labels");
    if (!s || !t) { return; }
    var colors = { cytology: "#b35c00", histopathology: "#1f6feb",
      received: "#7b8794", processing: "#1f6feb", ready: "#2f855a" };
    var types = ["histopathology", "cytology"];
    var statuses = ["received", "processing", "ready"];
    var common = { responsive: true, maintainAspectRatio: false, animation: false, spanGaps: false,
      interaction: { mode: "index", intersect: false } };

    new Chart(document.getElementById("chart-volume"), {
      type: "bar",
      data: { labels: s.labels, datasets: types.map(function (k) {
        return { label: t[k], data: s.received[k], backgroundColor: colors[k], stack: "v" };
      }) },
      options: Object.assign({}, common, { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } })
    });

    var lines = [];
    types.forEach(function (k) {
      lines.push({ label: t[k], data: s.median_turnaround[k], borderColor: colors[k],
        backgroundColor: colors[k], pointRadius: 1, tension: 0.2 });
      lines.push({ label: t[k] + " · " + t.target + " " + s.targets[k], borderColor: colors[k],
        borderDash: [6, 4], pointRadius: 0, borderWidth: 1,
        data: s.labels.map(function () { return s.targets[k]; }) });
    });
    new Chart(document.getElementById("chart-turnaround"), {
      type: "line", data: { labels: s.labels, datasets: lines },
      options: Object.assign({}, common, { scales: { y: { beginAtZero: true } } })
    });

    new Chart(document.getElementById("chart-wip"), {
      type: "line",
      data: { labels: s.labels, datasets: statuses.map(function (k) {
        return { label: t[k], data: s.work_in_progress[k], borderColor: colors[k],
          backgroundColor: colors[k] + "55", fill: true, pointRadius: 0 };
      }) },
      options: Object.assign({}, common, { scales: { y: { stacked: true, beginAtZero: true } } })
    });

    new Chart(document.getElementById("chart-workload"), {
      type: "bar",
      data: { labels: s.workload.labels, datasets: [{ label: t.reports,
        data: s.workload.values, backgroundColor: colors.histopathology }] },
      options: Object.assign({}, common, { indexAxis: "y" })
    });

    new Chart(document.getElementById("chart-revenue"), {
      type: "bar",
      data: { labels: s.revenue.labels, datasets: [{ label: t.revenue,
        data: s.revenue.values, backgroundColor: colors.ready }] },
      options: Object.assign({}, common, { scales: { y: { beginAtZero: true } } })
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
