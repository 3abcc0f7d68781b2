/* career-cluster-profiles reports: draw the charts (data in <script type="application/json">
   beside each chart) and make tables sortable and filterable. No network, no framework. */
(function () {
  "use strict";
  function drawCharts() {
    if (typeof Plotly === "undefined") {
      document.querySelectorAll("[data-chart]").forEach(function (el) {
        el.textContent = "Chart unavailable: plotly.min.js is missing beside this page. The data table below has the same figures.";
      });
      return;
    }
    document.querySelectorAll("script[data-chart-for]").forEach(function (node) {
      var spec = JSON.parse(node.textContent);
      var target = document.getElementById(node.getAttribute("data-chart-for"));
      if (target.clientWidth && target.clientWidth < NARROW) {
        try { fitNarrow(spec, target.clientWidth); }
        catch (e) { spec = JSON.parse(node.textContent); }  /* a chart it does not know: as is */
      }
      Plotly.newPlot(target, spec.data, spec.layout, spec.config).then(function (plot) {
        label(plot);
        plot.on("plotly_afterplot", function () { label(plot); });  /* redrawn on resize */
      });
    });
  }
  /* The drawing is hidden from screen readers (the chart's summary and data table carry its
     figures); the toolbar's one button keeps plotly.js's name, the same as its tooltip. */
  function label(plot) {
    plot.querySelectorAll("svg.main-svg, .modebar-btn svg").forEach(function (svg) {
      svg.setAttribute("aria-hidden", "true");
    });
  }
  /* Phones: the charts are laid out for a page about 1,000 px wide. Below NARROW px, long bar
     labels and axis titles wrap, fewer x ticks stand upright, and the state tiles shrink to
     fit the width (they would overlap) with the colour scale beneath them. */
  var NARROW = 640;
  function wrap(text, width) {
    var lines = [], line = "";
    String(text).split(" ").forEach(function (word) {
      if (line && (line + " " + word).length > width) { lines.push(line); line = word; }
      else { line = line ? line + " " + word : word; }
    });
    if (line) lines.push(line);
    return lines.join("<br>");
  }
  function fitNarrow(spec, width) {
    var layout = spec.layout, categories = {};
    spec.data.forEach(function (t) {
      var isCategories = Array.isArray(t.y) && t.y.some(function (v) { return typeof v === "string"; });
      if ((t.orientation === "h" || t.type === "scatter") && isCategories) {
        t.y = t.y.map(function (label) {  /* category labels: wrapped, each row tall enough */
          if (typeof label !== "string") return label;  /* a gap (null) stays a gap */
          var wrapped = wrap(label, 24);
          categories[wrapped] = wrapped.split("<br>").length;
          return wrapped;
        });
      }
      if (t.marker && t.marker.symbol === "square" && typeof t.marker.size === "number" &&
          layout.xaxis && layout.xaxis.range && layout.yaxis && layout.yaxis.range) {
        var units = layout.xaxis.range[1] - layout.xaxis.range[0];
        var unitPx = (width - 30) / units;
        var size = Math.min(t.marker.size, Math.floor(0.72 * unitPx));
        if (Array.isArray(t.text)) {  /* the abbreviation alone: no room for the quotient */
          t.text = t.text.map(function (label) { return String(label).split("<br>")[0]; });
        }
        if (t.textfont && typeof t.textfont.size === "number") {
          t.textfont.size = Math.max(7, Math.round(t.textfont.size * size / t.marker.size));
        }
        t.marker.size = size;
        layout.height = Math.round(unitPx * (layout.yaxis.range[0] - layout.yaxis.range[1])) + 90;
        if (t.marker.colorbar) {
          t.marker.colorbar.orientation = "h";
          t.marker.colorbar.y = 0;
          t.marker.colorbar.yanchor = "top";
          t.marker.colorbar.thickness = 10;
          t.marker.colorbar.title = {text: "Location quotient", side: "top"};
          if (Array.isArray(t.marker.colorbar.ticktext)) {  /* short enough to keep the ends */
            t.marker.colorbar.ticktext = t.marker.colorbar.ticktext.map(function (label) {
              return String(label).replace(/^(\S+) or less$/, "\u2264$1").replace(/^(\S+) or more$/, "\u2265$1");
            });
          }
        }
      }
    });
    var counts = Object.keys(categories).map(function (k) { return categories[k]; });
    if (counts.length) {  /* every category gets the same band: as tall as the tallest label */
      var margin = layout.margin || {};
      var band = 12 * Math.max.apply(null, counts) + 10;
      var needed = counts.length * band + (margin.t || 0) + (margin.b || 0) + 50;
      layout.height = Math.max(layout.height || 0, needed);
    }
    ["xaxis", "yaxis"].forEach(function (name) {
      var axis = layout[name];
      if (!axis || axis.visible === false) return;
      axis.tickfont = Object.assign({size: 10}, axis.tickfont);
      if (name === "xaxis") {
        axis.tickangle = 0;
        /* wages as "$50k": short enough for five upright ticks, so the boxes near the living
           wage still have a labelled scale under them */
        if (String(axis.tickformat || "").charAt(0) === "$") { axis.tickformat = "$~s"; axis.nticks = 6; }
        else { axis.nticks = 3; }
      }
      if (axis.title && axis.title.text) {
        axis.title.text = wrap(axis.title.text, 32);
        axis.title.font = Object.assign({size: 11}, axis.title.font);
      }
    });
  }
  function cellValue(row, index, numeric) {
    var cell = row.children[index];
    var raw = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent.trim();
    if (!numeric) return raw.toLowerCase();
    return raw === "" ? null : parseFloat(raw);
  }
  function makeSortable(table) {
    var headers = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headers, function (th, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = th.textContent;
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () {
        var numeric = th.getAttribute("data-type") === "num";
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(headers, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, index, numeric), y = cellValue(b, index, numeric);
          if (x === y) return 0;
          if (x === null) return 1;   /* unpublished values last either way */
          if (y === null) return -1;
          return (x < y ? -1 : 1) * (ascending ? 1 : -1);
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }
  function makeFilterable(tableId) {
    var table = document.getElementById(tableId);
    var text = document.querySelector('[data-filter-text="' + tableId + '"]');
    var status = document.querySelector('[data-filter-status="' + tableId + '"]');
    var count = document.querySelector('[data-count-for="' + tableId + '"]');
    function apply() {
      var needle = (text && text.value || "").trim().toLowerCase();
      var wanted = status ? status.value : "";
      var shown = 0, rows = table.tBodies[0].rows;
      Array.prototype.forEach.call(rows, function (row) {
        /* only the cells marked data-search (code, name, sub-cluster): not the reasons'
           hidden text, where a word like "nurse" would match unrelated occupations */
        var keys = row.querySelectorAll("[data-search]");
        var hay = keys.length ? Array.prototype.map.call(keys, function (c) { return c.textContent; }).join(" ")
                              : row.textContent;
        var ok = (!needle || hay.toLowerCase().indexOf(needle) >= 0) &&
                 (!wanted || row.getAttribute("data-status") === wanted);
        row.hidden = !ok;
        if (ok) shown += 1;
      });
      if (count) count.textContent = "Showing " + shown + " of " + rows.length;
    }
    if (text) text.addEventListener("input", apply);
    if (status) status.addEventListener("change", apply);
    apply();
  }
  document.addEventListener("DOMContentLoaded", function () {
    drawCharts();
    document.querySelectorAll("table.sortable").forEach(makeSortable);
    document.querySelectorAll("[data-filter-text]").forEach(function (el) {
      makeFilterable(el.getAttribute("data-filter-text"));
    });
    /* printed: every chart's data table and every other detail open (beforeprint in
       browsers, the media query for print emulation and PDF tools), except the occupations
       table's reasons: opened, they stretch each row to several lines and the table to dozens
       of pages; their first line is the reason, and the downloads have the full text */
    function openAll() {
      document.querySelectorAll("details").forEach(function (d) {
        if (!d.closest("#occupations-table")) d.open = true;
      });
    }
    window.addEventListener("beforeprint", openAll);
    var print = window.matchMedia("print");
    if (print.matches) openAll();
    print.addEventListener("change", function (e) { if (e.matches) openAll(); });
  });
})();
