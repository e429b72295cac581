// Draws the charts of the managers' pages with the vendored Apache ECharts (static/vendor/echarts, Apache-2.0).
// The data comes from the page itself (<script type="application/json" id="charts">): no request, no CDN.
(function () {
  "use strict";
  var source = document.getElementById("charts");
  if (!source || !window.echarts) { return; }
  var specs = JSON.parse(source.textContent || "{}");
  var font = getComputedStyle(document.body).fontFamily;
  var EMOTION_COLOURS = { joy: "#16a34a", surprise: "#0891b2", neutral: "#94a3b8", anxiety: "#d97706", sadness: "#6366f1", anger: "#dc2626" };
  var PALETTE = ["#0f766e", "#b45309", "#7c3aed", "#0369a1", "#be123c", "#4d7c0f"];

  function percent(value) { return value == null ? "–" : (value * 100).toFixed(1) + " %"; }

  function option(spec) {
    var base = {
      textStyle: { fontFamily: font },
      color: PALETTE,
      animation: false,
      grid: { left: 48, right: 16, top: 36, bottom: 56, containLabel: true },
      tooltip: { trigger: spec.kind === "heatmap" ? "item" : "axis" },
      legend: { top: 0, type: "scroll" }
    };
    if (spec.kind === "heatmap") {
      base.tooltip.formatter = function (p) { return spec.y[p.value[1]] + " · " + spec.x[p.value[0]] + ": " + p.value[2]; };
      base.grid.top = 8;
      base.xAxis = { type: "category", data: spec.x, splitArea: { show: true } };
      base.yAxis = { type: "category", data: spec.y, splitArea: { show: true } };
      base.visualMap = { min: 0, max: Math.max(1, spec.max), calculable: true, orient: "horizontal", left: "center", bottom: 0,
        inRange: { color: ["#fff7ed", "#fdba74", "#dc2626"] } };
      base.grid.bottom = 64;
      base.series = [{ type: "heatmap", data: spec.data, label: { show: spec.x.length <= 8 } }];
      delete base.legend;
      return base;
    }
    if (spec.kind === "timeline") {
      base.tooltip = { trigger: "item", formatter: function (p) { return p.value[0].replace("T", " ").slice(0, 16) + " · " + spec.y[p.value[1]]; } };
      base.xAxis = { type: "time" };
      base.yAxis = { type: "category", data: spec.y };
      delete base.legend;
      base.grid.top = 12;
      base.series = [{ type: "line", data: spec.data, symbolSize: 9, lineStyle: { color: "#cbd5e1" },
        itemStyle: { color: function (p) { return EMOTION_COLOURS[spec.keys[p.value[1]]] || "#64748b"; } } }];
      return base;
    }
    base.xAxis = { type: "category", data: spec.x, name: spec.xname || "", axisLabel: { hideOverlap: true } };
    base.yAxis = { type: "value", name: spec.unit || "" };
    if (spec.percent) {
      base.yAxis.axisLabel = { formatter: function (v) { return Math.round(v * 100) + "%"; } };
      base.tooltip.valueFormatter = percent;
    }
    base.series = spec.series.map(function (s) {
      var line = spec.kind === "line" || s.line;
      var series = { name: s.name, type: line ? "line" : "bar", data: s.data, connectNulls: true, stack: s.stack };
      if (spec.emotions && EMOTION_COLOURS[s.key]) { series.itemStyle = { color: EMOTION_COLOURS[s.key] }; }
      return series;
    });
    return base;
  }

  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var spec = specs[element.getAttribute("data-chart")];
    if (!spec) { return; }
    var chart = echarts.init(element, null, { renderer: "svg" });
    chart.setOption(option(spec));
    element.setAttribute("data-drawn", "true");
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
