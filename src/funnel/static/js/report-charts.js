// The report pages' charts (Chart.js, served by the shop). Each <canvas data-chart="ID"> is
// drawn from the JSON in the <script type="application/json" id="ID"> beside it: its type,
// labels and datasets, built by the server from the same report as the table under it (the
// table is the accessible alternative). Without JavaScript the tables alone show.
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") {
    return;
  }
  var reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var palette = ["#1d4ed8", "#b45309", "#047857", "#7c3aed", "#be123c", "#0f766e"];

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source) {
      return;
    }
    var spec = JSON.parse(source.textContent);
    var datasets = spec.datasets.map(function (dataset, index) {
      var colour = palette[index % palette.length];
      return Object.assign(
        { backgroundColor: colour, borderColor: colour, borderWidth: 2 },
        dataset
      );
    });
    var scales = {};
    (spec.axes || []).forEach(function (axis) {
      scales[axis.id] = {
        position: axis.position || "left",
        beginAtZero: true,
        title: { display: true, text: axis.title },
        grid: { drawOnChartArea: axis.position !== "right" },
      };
    });
    canvas.chart = new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        indexAxis: spec.indexAxis || "x",
        animation: reduceMotion ? false : { duration: 400 },
        maintainAspectRatio: false,
        responsive: true,
        scales: scales,
        plugins: { legend: { position: "bottom" } },
      },
    });
  }

  document.querySelectorAll("canvas[data-chart]").forEach(draw);
})();
