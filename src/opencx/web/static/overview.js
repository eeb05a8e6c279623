// The overview page: "PNG" buttons save what ECharts drew (getDataURL, on a white background), and
// picking a From or To day switches the period to "Custom". Buttons are found by delegation, so
// sections that htmx swaps in (live updates, filters) need nothing more.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-png-chart]");
    if (!button || typeof echarts === "undefined") return;
    var element = document.getElementById(button.dataset.pngChart);
    var chart = element && echarts.getInstanceByDom(element);
    if (!chart) return;
    var link = document.createElement("a");
    link.href = chart.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#fff" });
    link.download = button.dataset.filename;
    document.body.appendChild(link);
    link.click();
    link.remove();
  });

  document.addEventListener("change", function (event) {
    if (!event.target.matches("#overview-start, #overview-end")) return;
    var period = document.getElementById("overview-period");
    if (period) period.value = "custom";
  }, true);  // capture: before htmx sends the form on the same change
})();
