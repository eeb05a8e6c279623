// Draws every element with a data-trend attribute as a line per week with Apache ECharts.
// data-trend holds {"labels", "name", "value": [...], "low"/"high": [...] (optional 95% band),
// "min", "max" (null: from the data), "percent" (values are shares), "sparkline" (no axes, for table rows)}.
(function () {
  "use strict";

  function scaled(values, factor) {
    return (values || []).map(function (v) { return v === null ? null : v * factor; });
  }

  function draw(element) {
    if (element.dataset.trendDrawn || typeof echarts === "undefined") return;
    var spec = JSON.parse(element.dataset.trend);
    var style = getComputedStyle(document.documentElement);
    var accent = style.getPropertyValue("--accent").trim() || "#2354d4";
    var factor = spec.percent ? 100 : 1;
    var values = scaled(spec.value, factor);
    var series = [];
    if (spec.low && spec.high) {
      // The band: an invisible line at the lower bound with the width stacked on top of it.
      var width = spec.high.map(function (h, i) {
        return h === null || spec.low[i] === null ? null : (h - spec.low[i]) * factor;
      });
      series.push({ name: "low", type: "line", stack: "band", stackStrategy: "all",
        data: scaled(spec.low, factor),
        lineStyle: { opacity: 0 }, symbol: "none", silent: true, tooltip: { show: false } });
      series.push({ name: "95% interval", type: "line", stack: "band", stackStrategy: "all",
        data: width,
        lineStyle: { opacity: 0 }, symbol: "none", silent: true, tooltip: { show: false },
        areaStyle: { color: accent, opacity: 0.15 } });
    }
    series.push({ name: spec.name, type: "line", data: values, connectNulls: true,
      symbol: spec.sparkline ? "none" : "circle", symbolSize: 6,
      lineStyle: { color: accent, width: 2 }, itemStyle: { color: accent } });
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      textStyle: { fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" },
      tooltip: spec.sparkline ? { show: false } : {
        trigger: "axis",
        valueFormatter: function (v) {
          return v === null || v === undefined ? "—" : Math.round(v) + (spec.percent ? "%" : "");
        },
      },
      grid: spec.sparkline ? { left: 2, right: 2, top: 2, bottom: 2 }
        : { left: 24, right: 40, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: spec.labels, show: !spec.sparkline, boundaryGap: false,
        axisLine: { onZero: false } },
      // A bound left out (null) is found by ECharts from the data.
      yAxis: { type: "value", show: !spec.sparkline,
        min: spec.min === null || spec.min === undefined ? null : spec.min * factor,
        max: spec.max === null || spec.max === undefined ? null : spec.max * factor,
        axisLabel: { formatter: spec.percent ? "{value}%" : "{value}" } },
      series: series,
    });
    element.dataset.trendDrawn = "1";
    if (typeof ResizeObserver !== "undefined") {
      new ResizeObserver(function () { chart.resize(); }).observe(element);
    }
  }

  function drawAll() { document.querySelectorAll("[data-trend]").forEach(draw); }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
