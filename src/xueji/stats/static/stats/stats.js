/* Xueji statistics: draw each table's chart with Chart.js (served locally).
 *
 * The numbers come from the page itself: a <script type="application/json"> element that
 * Django's json_script wrote, named by the canvas's data-chart attribute. The table next
 * to the chart holds the same numbers and stays readable without this script; the chart's
 * figure is hidden until it has been drawn. No inline script, no style attribute (CSP). */
(function () {
  "use strict";

  var PALETTE = [
    "#1f5fa8", "#d9822b", "#1a7f37", "#b42318", "#7b4fb5",
    "#0f8b8d", "#9a6700", "#616e7c", "#c2457a", "#4c9be8"
  ];
  // Rows that fit one chart line each on a phone; longer lists grow the chart downwards.
  var ROW_HEIGHT = 22;
  var MIN_HEIGHT = 220;

  function colour(index) {
    return PALETTE[index % PALETTE.length];
  }

  function config(spec) {
    var doughnut = spec.type === "doughnut";
    var datasets = spec.datasets.map(function (dataset, index) {
      return {
        label: dataset.label,
        data: dataset.data,
        backgroundColor: doughnut ? spec.labels.map(function (_l, i) { return colour(i); }) : colour(index),
        borderWidth: doughnut ? 1 : 0
      };
    });
    var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    var options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: reduced ? false : { duration: 300 },
      plugins: { legend: { display: doughnut || datasets.length > 1, position: "bottom" } }
    };
    if (!doughnut) {
      options.indexAxis = spec.horizontal ? "y" : "x";
      options.scales = {
        x: { stacked: !!spec.stacked, beginAtZero: true, ticks: { precision: 0 } },
        y: { stacked: !!spec.stacked, beginAtZero: true, ticks: { precision: 0 } }
      };
    }
    return { type: spec.type, data: { labels: spec.labels, datasets: datasets }, options: options };
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    var figure = canvas.closest("figure");
    if (!source || !figure || typeof window.Chart === "undefined") {
      return;
    }
    var spec;
    try {
      spec = JSON.parse(source.textContent);
    } catch (error) {
      return;
    }
    if (!spec || !spec.labels || !spec.labels.length) {
      return;
    }
    figure.hidden = false;
    if (spec.horizontal) {
      // CSSOM, not a style attribute: allowed by the policy.
      canvas.parentNode.style.height = Math.max(MIN_HEIGHT, spec.labels.length * ROW_HEIGHT + 80) + "px";
    }
    new window.Chart(canvas, config(spec));
  }

  function drawAll() {
    var canvases = document.querySelectorAll("canvas[data-chart]");
    for (var i = 0; i < canvases.length; i++) {
      draw(canvases[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
