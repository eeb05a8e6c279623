// Journey charts with Apache ECharts: [data-sankey] holds {"nodes": [{name}], "links": [{source,
// target, value}]} (node names carry their step, "+1 Checkout"; the label shows the touchpoint),
// [data-funnel] holds {"steps": [{label, visitors, conversion}], "groups": [...]} drawn as bars.
(function () {
  "use strict";

  var font = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

  function touchpoint(name) {
    return name.replace(/^[+-]\d+ /, "");
  }

  function observe(element, chart) {
    if (typeof ResizeObserver !== "undefined") {
      new ResizeObserver(function () { chart.resize(); }).observe(element);
    }
  }

  function drawSankey(element) {
    if (element.dataset.drawn || typeof echarts === "undefined") return;
    var spec = JSON.parse(element.dataset.sankey);
    var accent = getComputedStyle(document.documentElement).getPropertyValue("--accent").trim();
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      textStyle: { fontFamily: font },
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          if (p.dataType === "edge") {
            return touchpoint(p.data.source) + " → " + touchpoint(p.data.target) + ": " + p.data.value + " sessions";
          }
          return touchpoint(p.name);
        },
      },
      series: [{
        type: "sankey",
        left: 8, right: 160, top: 8, bottom: 8,
        nodeGap: 10,
        layoutIterations: 32,
        emphasis: { focus: "adjacency" },
        data: spec.nodes.map(function (n) {
          var end = / session (ends|starts)$/.test(n.name);
          return { name: n.name, itemStyle: end ? { color: "#b8bfcc" } : undefined };
        }),
        links: spec.links,
        label: { formatter: function (p) { return touchpoint(p.name); }, fontSize: 12 },
        lineStyle: { color: "gradient", opacity: 0.35 },
        itemStyle: { color: accent || undefined, borderWidth: 0 },
      }],
    });
    element.dataset.drawn = "1";
    observe(element, chart);
  }

  function drawFunnel(element) {
    if (element.dataset.drawn || typeof echarts === "undefined") return;
    var spec = JSON.parse(element.dataset.funnel);
    var accent = getComputedStyle(document.documentElement).getPropertyValue("--accent").trim();
    var labels = spec.steps.map(function (s) { return s.step + ". " + s.label; });
    var series = [{
      name: "All visitors",
      type: "bar",
      data: spec.steps.map(function (s) { return s.visitors; }),
      itemStyle: { color: accent || undefined },
      label: {
        show: true, position: "right",
        formatter: function (p) {
          var step = spec.steps[p.dataIndex];
          return step.visitors + " (" + (step.conversion * 100).toFixed(1) + "%)";
        },
      },
    }];
    spec.groups.forEach(function (g) {
      series.push({ name: g.group || "unknown", type: "bar", data: g.steps.map(function (s) { return s.visitors; }) });
    });
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      textStyle: { fontFamily: font },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: spec.groups.length ? { bottom: 0, type: "scroll" } : { show: false },
      grid: { left: 16, right: 110, top: 8, bottom: spec.groups.length ? 36 : 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: labels, inverse: true, axisLabel: { width: 200, overflow: "truncate" } },
      series: series,
    });
    element.dataset.drawn = "1";
    observe(element, chart);
  }

  function drawAll(root) {
    var scope = root.querySelectorAll ? root : document;
    scope.querySelectorAll("[data-sankey]").forEach(drawSankey);
    scope.querySelectorAll("[data-funnel]").forEach(drawFunnel);
    if (root.matches && root.matches("[data-sankey]")) drawSankey(root);
    if (root.matches && root.matches("[data-funnel]")) drawFunnel(root);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  } else {
    drawAll(document);
  }
  // Results that htmx swaps in (a new filter, a funnel preview) bring new charts.
  if (window.htmx) window.htmx.onLoad(drawAll);
})();
