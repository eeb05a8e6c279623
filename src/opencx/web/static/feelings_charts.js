// "How customers feel": draws, with Apache ECharts,
// - [data-sentiment-trend]: {"labels", "negative", "neutral", "positive" (shares 0-1 or null),
//   "score" (mean score -1..1 or null)}: stacked shares per week and the mean score as a line;
// - [data-heatmap]: {"rows", "columns", "values" ([[row, column, 0-1], ...])}: a heat map.
// The tables beside the charts carry the same figures for screen readers and without JavaScript.
(function () {
  "use strict";

  var FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
  // The badge colours of app.css: dark enough for white text and for 3:1 against the card.
  var COLOURS = { negative: "#b3261e", neutral: "#8a93a3", positive: "#1b6e3a" };

  function percent(values) {
    return values.map(function (v) { return v === null ? null : Math.round(v * 1000) / 10; });
  }

  function observe(element, chart) {
    if (typeof ResizeObserver !== "undefined") {
      new ResizeObserver(function () { chart.resize(); }).observe(element);
    }
  }

  function drawTrend(element) {
    if (element.dataset.drawn || typeof echarts === "undefined") return;
    var spec = JSON.parse(element.dataset.sentimentTrend);
    var series = ["negative", "neutral", "positive"].map(function (name) {
      return { name: name, type: "bar", stack: "share", data: percent(spec[name]),
        itemStyle: { color: COLOURS[name] }, barMaxWidth: 36 };
    });
    series.push({ name: "mean score", type: "line", yAxisIndex: 1, data: spec.score,
      connectNulls: true, symbolSize: 6, lineStyle: { color: "#2354d4", width: 2 },
      itemStyle: { color: "#2354d4" } });
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      textStyle: { fontFamily: FONT },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { bottom: 0 },
      grid: { left: 24, right: 24, top: 16, bottom: 36, containLabel: true },
      xAxis: { type: "category", data: spec.labels, axisTick: { alignWithLabel: true } },
      yAxis: [
        { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
        { type: "value", min: -1, max: 1, splitLine: { show: false } },
      ],
      series: series,
    });
    element.dataset.drawn = "1";
    observe(element, chart);
  }

  function drawHeatmap(element) {
    if (element.dataset.drawn || typeof echarts === "undefined") return;
    var spec = JSON.parse(element.dataset.heatmap);
    // The scale runs to the highest cell, so that differences between groups show.
    var top = Math.max(10, Math.ceil(Math.max.apply(null, spec.values.map(function (v) {
      return v[2] * 10;
    })) * 10));
    var values = spec.values.map(function (v) {
      var level = Math.round(v[2] * 100);
      // dark text on the light cells, white on the dark ones
      return { value: [v[1], v[0], level], label: { color: level >= top * 0.45 ? "#fff" : "#1d2330" } };
    });
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      textStyle: { fontFamily: FONT },
      tooltip: {
        formatter: function (p) {
          return spec.rows[p.value[1]] + " · " + spec.columns[p.value[0]] + ": " + p.value[2] +
            "% (mean probability)";
        },
      },
      grid: { left: 24, right: 16, top: 8, bottom: 56, containLabel: true },
      xAxis: { type: "category", data: spec.columns, splitArea: { show: true } },
      yAxis: { type: "category", data: spec.rows, inverse: true, splitArea: { show: true } },
      visualMap: { min: 0, max: top, calculable: false, orient: "horizontal", left: "center",
        bottom: 0, itemWidth: 12, text: [top + "%", "0%"],
        // light to dark blue: the value is also written in each cell
        inRange: { color: ["#f1f5fd", "#9db4ec", "#2354d4", "#12296b"] } },
      series: [{ type: "heatmap", data: values,
        label: { show: true, formatter: function (p) { return p.value[2] + "%"; } },
        emphasis: { itemStyle: { borderColor: "#1d2330", borderWidth: 1 } } }],
    });
    element.dataset.drawn = "1";
    observe(element, chart);
  }

  function drawAll() {
    document.querySelectorAll("[data-sentiment-trend]").forEach(drawTrend);
    document.querySelectorAll("[data-heatmap]").forEach(drawHeatmap);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
