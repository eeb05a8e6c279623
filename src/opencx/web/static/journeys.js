// Journey charts with Apache ECharts: the stage flow of the journey map (customers per stage as
// bars, conversion to the next stage as a line) and the pain-point ranking (horizontal bars).
(function () {
  "use strict";

  function accent() {
    return getComputedStyle(document.documentElement).getPropertyValue("--accent").trim() || "#2354d4";
  }

  function keepSized(element, chart) {
    if (typeof ResizeObserver !== "undefined") {
      new ResizeObserver(function () { chart.resize(); }).observe(element);
    }
  }

  function drawFlow(element) {
    var spec = JSON.parse(element.dataset.journeyFlow);
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { bottom: 0 },
      grid: { left: 16, right: 16, top: 24, bottom: 36, containLabel: true },
      xAxis: { type: "category", data: spec.labels },
      yAxis: [{ type: "value", name: "customers", minInterval: 1 },
        { type: "value", name: "to next", min: 0, max: 100, axisLabel: { formatter: "{value}%" } }],
      series: [
        { name: "Customers", type: "bar", data: spec.customers, itemStyle: { color: accent() },
          label: { show: true, position: "insideBottom", color: "#fff" } },
        { name: "Conversion to next stage", type: "line", yAxisIndex: 1, connectNulls: false,
          data: spec.conversion.map(function (v) { return v === null ? null : Math.round(v * 100); }),
          itemStyle: { color: "#d97706" }, lineStyle: { color: "#d97706", width: 2 },
          label: { show: true, formatter: "{c}%", backgroundColor: "#fff", padding: [1, 3] } },
      ],
    });
    keepSized(element, chart);
  }

  function drawRanking(element) {
    var spec = JSON.parse(element.dataset.painRanking);
    element.style.height = Math.max(160, 34 * spec.labels.length + 40) + "px";
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", max: 100 },
      yAxis: { type: "category", data: spec.labels.slice().reverse() },
      series: [{ name: "Impact", type: "bar", data: spec.score.slice().reverse().map(Math.round),
        itemStyle: { color: "#c2410c" }, label: { show: true, position: "right" } }],
    });
    keepSized(element, chart);
  }

  function drawAll() {
    if (typeof echarts === "undefined") return;
    document.querySelectorAll("[data-journey-flow]").forEach(drawFlow);
    document.querySelectorAll("[data-pain-ranking]").forEach(drawRanking);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
