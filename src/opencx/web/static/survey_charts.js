// Draws the survey results charts with Apache ECharts: [data-survey-chart] holds either
// {"type": "trend", "name", "unit", "scale" (optional factor), "labels", "value", "low", "high", "responses"} (a weekly line
// with its 95% interval as a band) or {"type": "distribution", "labels", "data", "groups"} (bars
// coloured by group: --score-detractor, --score-passive, --score-promoter, ... in app.css).
(function () {
  "use strict";

  function format(value, spec) {
    if (value === null || value === undefined) return "—";
    if (spec.name === "NPS") return (value > 0 ? "+" : "") + value.toFixed(0);
    if (spec.unit === "%") return value.toFixed(0) + "%";
    return value.toFixed(2);
  }

  // The axis follows the data in steps of 10 (NPS, CSAT %) or 1 (means), within the scale's range.
  var RANGES = { NPS: [-100, 100, 10], CSAT: [0, 100, 10], "Response rate": [0, 100, 10] };

  function bound(spec, end) {
    var range = RANGES[spec.name] || [1, 10, 1];
    return function (extent) {
      var step = range[2];
      return end === "min"
        ? Math.max(range[0], Math.floor(extent.min / step) * step - step)
        : Math.min(range[1], Math.ceil(extent.max / step) * step + step);
    };
  }

  function trend(spec, accent) {
    // The band: an invisible line at the lower bound with the interval's width stacked on it.
    var width = spec.high.map(function (high, i) {
      var low = spec.low[i];
      return high === null || low === null ? null : high - low;
    });
    return {
      tooltip: {
        trigger: "axis",
        formatter: function (params) {
          var i = params[0].dataIndex;
          return "Week of " + spec.labels[i] + "<br>" + spec.name + ": " + format(spec.value[i], spec) +
            "<br>95% interval: " + format(spec.low[i], spec) + " to " + format(spec.high[i], spec) +
            "<br>" + spec.responses[i] + " responses";
        },
      },
      xAxis: { type: "category", data: spec.labels, boundaryGap: false },
      yAxis: { type: "value", min: bound(spec, "min"), max: bound(spec, "max") },
      series: [
        { name: "lower bound", type: "line", data: spec.low, stack: "band", stackStrategy: "all",
          symbol: "none", lineStyle: { opacity: 0 }, silent: true },
        { name: "95% interval", type: "line", data: width, stack: "band", stackStrategy: "all",
          symbol: "none", lineStyle: { opacity: 0 }, areaStyle: { color: accent, opacity: 0.18 },
          silent: true },
        { name: spec.name, type: "line", data: spec.value, symbolSize: 7,
          itemStyle: { color: accent }, lineStyle: { width: 2, color: accent } },
      ],
    };
  }

  function distribution(spec, style, accent) {
    return {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "category", data: spec.labels, axisTick: { alignWithLabel: true } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{
        name: "Responses",
        type: "bar",
        data: spec.data.map(function (value, i) {
          var colour = spec.groups[i] && style.getPropertyValue("--score-" + spec.groups[i]).trim();
          return { value: value, itemStyle: { color: colour || accent } };
        }),
      }],
    };
  }

  function draw(element) {
    if (element.dataset.chartDrawn || typeof echarts === "undefined") return;
    var spec = JSON.parse(element.dataset.surveyChart);
    if (spec.scale && spec.scale !== 1) {  // shares (0..1) drawn as percentages
      ["value", "low", "high"].forEach(function (key) {
        spec[key] = spec[key].map(function (v) { return v === null ? null : v * spec.scale; });
      });
    }
    var style = getComputedStyle(document.documentElement);
    var accent = style.getPropertyValue("--accent").trim();
    var option = spec.type === "trend" ? trend(spec, accent) : distribution(spec, style, accent);
    option.animation = false;
    option.textStyle = { fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" };
    // The trend's first and last week labels sit on the chart's edges: leave them room.
    var side = spec.type === "trend" ? 40 : 16;
    option.grid = { left: side, right: side, top: 16, bottom: 8, containLabel: true };
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(option);
    element.dataset.chartDrawn = "1";
    if (typeof ResizeObserver !== "undefined") {
      new ResizeObserver(function () { chart.resize(); }).observe(element);
    }
  }

  function drawAll() {
    document.querySelectorAll("[data-survey-chart]").forEach(draw);
  }
  // Parts that htmx swaps in (the overview's live sections) bring new charts.
  if (window.htmx) window.htmx.onLoad(drawAll);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
