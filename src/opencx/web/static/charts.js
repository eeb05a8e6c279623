// Draws every element with a data-chart attribute as a (stacked) bar chart with Apache ECharts.
// data-chart holds {"labels": [...], "series": [{"name": ..., "data": [...]}]}; a series named like a
// timeline kind (order, delivery, ...) takes that kind's colour from app.css (--kind-<name>), and a
// lone series the accent colour. "stacked": false draws the series side by side (shares, rates).
(function () {
  "use strict";

  function draw(element) {
    if (element.dataset.chartDrawn || typeof echarts === "undefined") return;
    var spec = JSON.parse(element.dataset.chart);
    var style = getComputedStyle(document.documentElement);
    var several = spec.series.length > 1;
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      textStyle: { fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: several ? { bottom: 0, type: "scroll" } : { show: false },
      // Side margins leave room for the first and last category labels, which are centred.
      grid: { left: 24, right: 24, top: 16, bottom: several ? 36 : 8, containLabel: true },
      xAxis: { type: "category", data: spec.labels, axisTick: { alignWithLabel: true } },
      yAxis: { type: "value", minInterval: 1 },
      series: spec.series.map(function (s) {
        var colour = style.getPropertyValue("--kind-" + s.name).trim() ||
          (several ? "" : style.getPropertyValue("--accent").trim());
        return {
          name: s.name,
          type: "bar",
          stack: spec.stacked === false ? undefined : "total",
          data: s.data,
          itemStyle: colour ? { color: colour } : undefined,
        };
      }),
    });
    element.dataset.chartDrawn = "1";
    if (typeof ResizeObserver !== "undefined") {
      new ResizeObserver(function () { chart.resize(); }).observe(element);
    }
  }

  function drawAll(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("[data-chart]").forEach(draw);
    if (root.matches && root.matches("[data-chart]")) draw(root);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  } else {
    drawAll(document);
  }
  // Fragments that htmx swaps in (a filtered timeline, say) may bring new charts.
  if (window.htmx) window.htmx.onLoad(drawAll);
})();
