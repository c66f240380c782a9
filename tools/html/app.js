/* cpprof report page: renders the JSON document embedded in the page
 * (element cpprof-data; shapes in REPORT-JSON.md) into tables and inline
 * SVG charts. Plain JavaScript, no libraries, nothing fetched. Every piece
 * of data goes into the page through textContent or setAttribute, never
 * as markup. Sections whose data is absent are left out. When done, the
 * body gets data-rendered="ok"; an uncaught error is written into the page
 * as "RENDER-ERROR: ..." (and data-rendered="error"), so that a headless
 * browser's --dump-dom shows it. */
(function () {
  "use strict";

  var SVGNS = "http://www.w3.org/2000/svg";
  var COLORS = ["#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#000000", "#f0e442"];
  var BASE_COLOR = "#0072b2", CAND_COLOR = "#d55e00";
  var INF_NS = 1.2e11;       /* hist bucket of 120 s or more (le_ns INT64_MAX) */
  var TOP_KINDS = 24;        /* call kinds in the bar charts (all are in the table) */

  function fail(msg) {
    var box = document.getElementById("cp-errors");
    if (box) {
      box.textContent += "RENDER-ERROR: " + msg + "\n";
    }
    document.body.setAttribute("data-rendered", "error");
  }
  window.onerror = function (msg, src, line, col, err) {
    fail(String(msg) + " (line " + line + ":" + col + ")" + (err && err.stack ? "\n" + err.stack : ""));
    return false;
  };

  /* ---- DOM helpers -------------------------------------------------- */

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    setAttrs(e, attrs);
    addKids(e, kids);
    return e;
  }
  function sv(tag, attrs, kids) {
    var e = document.createElementNS(SVGNS, tag);
    setAttrs(e, attrs);
    addKids(e, kids);
    return e;
  }
  function setAttrs(e, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === "text") e.textContent = String(v);
      else if (k === "onclick" || k === "onchange") e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, String(v));
    });
  }
  function addKids(e, kids) {
    if (kids === null || kids === undefined) return;
    if (!Array.isArray(kids)) kids = [kids];
    kids.forEach(function (k) {
      if (k === null || k === undefined || k === false) return;
      e.appendChild(typeof k === "string" || typeof k === "number" ? document.createTextNode(String(k)) : k);
    });
  }

  /* ---- formatting ---------------------------------------------------- */

  function sig3(v) {
    /* three significant digits, like report__fmt_ns */
    if (v >= 100) return v.toFixed(0);
    if (v >= 10) return v.toFixed(1);
    return v.toFixed(2);
  }
  function fmtNs(ns) {
    if (ns === null || ns === undefined) return "-";
    if (ns >= INF_NS * 0.999 && ns > 9e18) return ">=120s";
    if (ns < 1000) return Math.round(ns) + "ns";
    if (ns < 999500) return sig3(ns / 1e3) + "\u00b5s";
    if (ns < 999500000) return sig3(ns / 1e6) + "ms";
    if (ns < 999.5e9) return sig3(ns / 1e9) + "s";
    return Math.round(ns / 1e9) + "s";
  }
  function trimNum(v) {
    var s = v.toPrecision(3);
    if (s.indexOf("e") >= 0) s = String(Number(s));
    if (s.indexOf(".") >= 0) s = s.replace(/0+$/, "").replace(/\.$/, "");
    return s;
  }
  function fmtTickNs(ns) {
    if (ns < 1000) return trimNum(ns) + "ns";
    if (ns < 1e6) return trimNum(ns / 1e3) + "\u00b5s";
    if (ns < 1e9) return trimNum(ns / 1e6) + "ms";
    return trimNum(ns / 1e9) + "s";
  }
  function fmtInt(v) {
    if (v === null || v === undefined) return "-";
    return Math.round(v).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }
  function fmtNum(v, digits) {
    if (v === null || v === undefined || !isFinite(v)) return "-";
    return v.toFixed(digits === undefined ? 1 : digits);
  }
  function fmtRatio(r) {
    if (r === null || r === undefined || !isFinite(r)) return "-";
    return (r >= 10 ? r.toFixed(1) : r.toFixed(2)) + "x";
  }
  function fmtPct(f) {
    if (f === null || f === undefined || !isFinite(f)) return "-";
    return (f * 100).toFixed(f < 0.1 ? 1 : 0) + "%";
  }
  function fmtDate(ns) {
    if (ns === null || ns === undefined) return "-";
    return new Date(ns / 1e6).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  }
  function fmtDuration(ns) {
    if (ns === null || ns === undefined) return "-";
    var s = Math.round(ns / 1e9), h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60);
    if (h) return h + "h " + (m < 10 ? "0" : "") + m + "m";
    if (m) return m + "m" + (s % 60 ? " " + (s % 60) + "s" : "");
    return (ns / 1e9).toFixed(1) + "s";
  }
  function fmtBytes(b) {
    if (b === null || b === undefined) return "-";
    var u = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
    while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
    return (i ? b.toFixed(1) : String(b)) + " " + u[i];
  }
  function callName(c) {
    var what = c.path !== null && c.path !== undefined ? c.path : (c.resource || "-") + (c.subresource ? "/" + c.subresource : "");
    return c.component + " " + c.verb + " " + what + (c.scope ? " (" + c.scope + ")" : "");
  }
  function callKey(c) {
    return [c.component, c.verb, c.resource, c.subresource, c.scope, c.path === null ? "" : c.path].join("\u0001");
  }

  /* ---- scales -------------------------------------------------------- */

  function linScale(d0, d1, r0, r1) {
    if (d1 === d0) d1 = d0 + 1;
    var f = function (v) { return r0 + (v - d0) / (d1 - d0) * (r1 - r0); };
    f.ticks = function (n) { return niceTicks(d0, d1, n || 5); };
    f.log = false;
    f.d0 = d0; f.d1 = d1;
    return f;
  }
  function logScale(d0, d1, r0, r1) {
    d0 = Math.max(d0, 1e-9);
    if (d1 <= d0) d1 = d0 * 10;
    var l0 = Math.log10(d0), l1 = Math.log10(d1);
    var f = function (v) { return r0 + (Math.log10(Math.max(v, d0)) - l0) / (l1 - l0) * (r1 - r0); };
    f.ticks = function () {
      var t = [], k, m, mults = (l1 - l0) <= 2.2 ? [1, 2, 5] : [1];
      for (k = Math.floor(l0); k <= Math.ceil(l1); k++) {
        for (m = 0; m < mults.length; m++) {
          var v = mults[m] * Math.pow(10, k);
          if (v >= d0 * 0.999 && v <= d1 * 1.001) t.push(v);
        }
      }
      return t;
    };
    f.log = true;
    f.d0 = d0; f.d1 = d1;
    return f;
  }
  function niceTicks(a, b, n) {
    var span = b - a, step = Math.pow(10, Math.floor(Math.log10(span / n))), err = span / n / step;
    if (err >= 7.5) step *= 10; else if (err >= 3.5) step *= 5; else if (err >= 1.5) step *= 2;
    var t = [], v;
    for (v = Math.ceil(a / step) * step; v <= b + step * 1e-9; v += step) t.push(Math.round(v / step) * step);
    return t;
  }
  /* the latency domain of VALUES: log when they span more than ~20x */
  function latencyScale(values, r0, r1, forceLog) {
    var pos = values.filter(function (v) { return v > 0 && isFinite(v); });
    if (!pos.length) return linScale(0, 1, r0, r1);
    var lo = Math.min.apply(null, pos), hi = Math.max.apply(null, pos);
    if (forceLog || hi / lo > 20) {
      return logScale(Math.pow(10, Math.floor(Math.log10(lo))), Math.pow(10, Math.ceil(Math.log10(hi * 1.0001))), r0, r1);
    }
    var t = niceTicks(0, hi, 5);
    return linScale(0, t[t.length - 1] < hi ? hi : t[t.length - 1], r0, r1);
  }
  function timeTicks(t0, t1) {
    var span = (t1 - t0) / 1e9, steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
    var step = steps[steps.length - 1], i;
    for (i = 0; i < steps.length; i++) if (span / steps[i] <= 8) { step = steps[i]; break; }
    var t = [], s = Math.ceil(t0 / 1e9 / step) * step;
    for (; s * 1e9 <= t1; s += step) t.push(s * 1e9);
    return { ticks: t, step: step };
  }
  function fmtClock(ns, step) {
    var iso = new Date(ns / 1e6).toISOString();
    return step < 60 ? iso.slice(11, 19) : iso.slice(11, 16);
  }

  /* ---- chart frame ----------------------------------------------------- */

  /* An SVG with a plot area and labelled axes. o: width, height, margins
   * (l, r, t, b), title, xlabel, ylabel, x and y scale factories (given the
   * pixel range), xfmt, yfmt, xticks (optional). Returns {svg, plot, x, y}. */
  function frame(o) {
    var W = o.width || 1100, H = o.height || 320;
    var m = o.margin || { l: 80, r: 20, t: 34, b: 50 };
    var svg = sv("svg", { "class": "chart", viewBox: "0 0 " + W + " " + H, width: W, height: H, role: "img",
                          "aria-label": o.title });
    svg.appendChild(sv("title", { text: o.title }));
    svg.appendChild(sv("text", { x: m.l, y: 20, "class": "title", text: o.title }));
    var x = o.x(m.l, W - m.r), y = o.y(H - m.b, m.t);
    var grid = sv("g", { "class": "grid" }), axis = sv("g", { "class": "axis" });
    svg.appendChild(grid);
    var xt = o.xticks || x.ticks(8), yt = o.yticks || y.ticks(5);
    xt.forEach(function (v) {
      var px = x(v);
      grid.appendChild(sv("line", { x1: px, x2: px, y1: m.t, y2: H - m.b }));
      axis.appendChild(sv("line", { x1: px, x2: px, y1: H - m.b, y2: H - m.b + 5 }));
      axis.appendChild(sv("text", { x: px, y: H - m.b + 18, "text-anchor": "middle", "class": "tick", text: o.xfmt(v) }));
    });
    yt.forEach(function (v) {
      var py = y(v);
      grid.appendChild(sv("line", { x1: m.l, x2: W - m.r, y1: py, y2: py }));
      axis.appendChild(sv("line", { x1: m.l - 5, x2: m.l, y1: py, y2: py }));
      axis.appendChild(sv("text", { x: m.l - 8, y: py + 4, "text-anchor": "end", "class": "tick", text: o.yfmt(v) }));
    });
    axis.appendChild(sv("line", { x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b }));
    axis.appendChild(sv("line", { x1: m.l, x2: m.l, y1: m.t, y2: H - m.b }));
    svg.appendChild(axis);
    svg.appendChild(sv("text", { x: m.l + (W - m.l - m.r) / 2, y: H - m.b + 38, "text-anchor": "middle", "class": "label", text: o.xlabel }));
    svg.appendChild(sv("text", { x: 14, y: m.t + (H - m.t - m.b) / 2, "text-anchor": "middle", "class": "label",
                                 transform: "rotate(-90 14 " + (m.t + (H - m.t - m.b) / 2) + ")", text: o.ylabel }));
    var plot = sv("g");
    svg.appendChild(plot);
    return { svg: svg, plot: plot, x: x, y: y, W: W, H: H, m: m };
  }
  /* A legend in one row above the plot, right-aligned (x, y: its right end
   * and baseline); wraps to more rows when it is wider than MAXW. */
  function legend(svg, items, right, y, maxw) {
    var g = sv("g", { "class": "legend" }), widths = items.map(function (it) { return 34 + it.name.length * 6.8; });
    var rows = [[]], w = 0;
    maxw = maxw || 700;
    items.forEach(function (it, i) {
      if (w + widths[i] > maxw && rows[rows.length - 1].length) { rows.push([]); w = 0; }
      rows[rows.length - 1].push(i);
      w += widths[i];
    });
    rows.forEach(function (row, r) {
      var total = row.reduce(function (a, i) { return a + widths[i]; }, 0), x = right - total, yy = y + r * 16;
      row.forEach(function (i) {
        var it = items[i];
        if (it.dash !== undefined || it.line) {
          g.appendChild(sv("line", { x1: x, x2: x + 22, y1: yy - 4, y2: yy - 4, stroke: it.color, "stroke-width": 2.5,
                                     "stroke-dasharray": it.dash || null }));
        } else {
          g.appendChild(sv("rect", { x: x + 4, y: yy - 10, width: 14, height: 11, fill: it.color, "fill-opacity": it.opacity || 1 }));
        }
        g.appendChild(sv("text", { x: x + 28, y: yy, text: it.name }));
        x += widths[i];
      });
    });
    svg.appendChild(g);
    return rows.length;
  }
  /* A legend of one item per row, from (x, y) down. */
  function legendColumn(svg, items, x, y) {
    var g = sv("g", { "class": "legend" });
    g.appendChild(sv("rect", { x: x - 6, y: y - 14, width: 12 + Math.max.apply(null, items.map(function (it) { return 34 + it.name.length * 6.8; })),
                               height: items.length * 17 + 8, fill: "#fff", "fill-opacity": 0.85 }));
    items.forEach(function (it, i) {
      var yy = y + i * 17;
      if (it.dash !== undefined || it.line) {
        g.appendChild(sv("line", { x1: x, x2: x + 22, y1: yy - 4, y2: yy - 4, stroke: it.color, "stroke-width": 2.5,
                                   "stroke-dasharray": it.dash || null }));
      } else {
        g.appendChild(sv("rect", { x: x + 4, y: yy - 10, width: 14, height: 11, fill: it.color, "fill-opacity": it.opacity || 1 }));
      }
      g.appendChild(sv("text", { x: x + 28, y: yy, text: it.name }));
    });
    svg.appendChild(g);
  }
  function pathOf(points) {
    return points.map(function (p, i) { return (i ? "L" : "M") + p[0].toFixed(1) + "," + p[1].toFixed(1); }).join("");
  }

  /* ---- charts ------------------------------------------------------------- */

  /* Horizontal grouped bars: one row per item, one bar per series.
   * series: [{name, color, opacity, get(item) -> ns}]. */
  function percentileBars(title, items, series, note, what) {
    var marks = items.some(function (it) { return it.mark; });
    var rowH = 6 + series.length * 7, m = { l: marks ? 400 : 340, r: 70, t: 54, b: 48 };
    var H = m.t + m.b + items.length * rowH;
    var vals = [];
    items.forEach(function (it) { series.forEach(function (s) { vals.push(s.get(it)); }); });
    var f = frame({
      title: title, width: 1150, height: H, margin: m,
      x: function (a, b) { var s = latencyScale(vals, a, b); return s; },
      y: function (a, b) { return linScale(0, items.length, b, a); },
      yticks: [], xfmt: fmtTickNs,
      xlabel: (what || "latency") + (latencyScale(vals, 0, 1).log ? " (log scale; bars start at the axis minimum)" : ""), ylabel: ""
    });
    items.forEach(function (it, i) {
      var y0 = m.t + i * rowH + 3;
      f.svg.appendChild(sv("text", { x: m.l - 8, y: y0 + (rowH - 6) / 2 + 4, "text-anchor": "end", "class": "tick",
                                     text: it.label }));
      series.forEach(function (s, j) {
        var v = s.get(it);
        if (v === null || v === undefined) return;
        var x0 = f.x.log ? m.l : f.x(0), x1 = Math.max(f.x(v), x0 + 1);
        var r = sv("rect", { x: x0, y: y0 + j * 7, width: x1 - x0, height: 6, fill: s.color, "fill-opacity": s.opacity || 1 });
        r.appendChild(sv("title", { text: it.label + " " + s.name + ": " + fmtNs(v) }));
        f.plot.appendChild(r);
      });
      var vmax = Math.max.apply(null, series.map(function (s) { var v = s.get(it); return v > 0 ? v : 0; }));
      if (vmax > 0) {
        f.plot.appendChild(sv("text", { x: f.x(vmax) + 5, y: y0 + (rowH - 6) / 2 + 4, "class": "tick", style: "fill:#5a5a5a",
                                        text: fmtNs(vmax) }));
      }
      if (it.mark) {
        f.svg.appendChild(sv("text", { x: 6, y: y0 + (rowH - 6) / 2 + 4, "class": "tick", style: "fill:#b34700",
                                       "font-weight": "bold", text: it.mark }));
      }
    });
    /* one row under the title */
    var li = series.map(function (s) { return { name: s.name, color: s.color, opacity: s.opacity }; });
    legend(f.svg, li, m.l + li.reduce(function (a, it) { return a + 34 + it.name.length * 6.8; }, 0), 42, 2000);
    var wrap = el("div", null, [f.svg]);
    if (note) wrap.appendChild(el("p", { "class": "note", text: note }));
    return wrap;
  }

  /* CDF curves from log-linear histograms. curves: [{name, color, dash, hist}] */
  function cdfChart(title, curves) {
    var all = [];
    curves.forEach(function (c) {
      (c.hist || []).forEach(function (p) { all.push(Math.min(p[0], INF_NS)); all.push(p[0] / 1.25); });
    });
    var f = frame({
      title: title, width: 1100, height: 360,
      x: function (a, b) { return latencyScale(all, a, b, true); },
      y: function (a, b) { return linScale(0, 100, a, b); },
      yticks: [0, 25, 50, 75, 90, 99, 100].filter(function (v) { return v !== 99; }),
      xfmt: fmtTickNs, yfmt: function (v) { return v + "%"; },
      xlabel: "latency (log scale); a point is a histogram bucket's upper bound (at most 25% above the values in it)",
      ylabel: "requests at most this latency"
    });
    curves.forEach(function (c) {
      var h = c.hist || [], total = 0, cum = 0, pts = [];
      h.forEach(function (p) { total += p[1]; });
      if (!total) return;
      pts.push([f.x(Math.min(h[0][0], INF_NS) / 1.25), f.y(0)]);
      h.forEach(function (p) {
        var le = Math.min(p[0], INF_NS);
        cum += p[1];
        pts.push([f.x(le), pts[pts.length - 1][1]]);
        pts.push([f.x(le), f.y(cum / total * 100)]);
      });
      var path = sv("path", { d: pathOf(pts), fill: "none", stroke: c.color, "stroke-width": 2.2,
                              "stroke-dasharray": c.dash || null });
      path.appendChild(sv("title", { text: c.name + " (" + fmtInt(total) + " requests)" }));
      f.plot.appendChild(path);
    });
    /* the curves rise left to right: the lower right corner stays free */
    var li = curves.map(function (c) { return { name: c.name, color: c.color, dash: c.dash || "" }; });
    var lw = Math.max.apply(null, li.map(function (it) { return 34 + it.name.length * 6.8; }));
    legendColumn(f.svg, li, f.W - f.m.r - lw - 8, f.H - f.m.b - li.length * 17 - 4);
    return f.svg;
  }

  /* Lines over time. lines: [{name, color, dash, points: [[t_ns, v]]}] */
  function timeChart(title, lines, opts) {
    var ts = [], vs = [];
    lines.forEach(function (l) { l.points.forEach(function (p) { ts.push(p[0]); vs.push(p[1]); }); });
    if (!ts.length) return null;
    var t0 = Math.min.apply(null, ts), t1 = Math.max.apply(null, ts);
    if (opts.t1 && opts.t1 > t1) t1 = opts.t1;
    if (t1 - t0 < 10e9) t1 = t0 + 10e9;
    var tt = timeTicks(t0, t1);
    var f = frame({
      title: title, width: 1100, height: opts.height || 300,
      x: function (a, b) { return linScale(t0, t1, a, b); },
      y: function (a, b) {
        if (opts.latency) return latencyScale(vs, a, b);
        var hi = Math.max.apply(null, vs.concat([opts.ymin || 1])), t = niceTicks(0, hi, 5);
        return linScale(0, Math.max(hi, t[t.length - 1]), a, b);
      },
      xticks: tt.ticks, xfmt: function (v) { return fmtClock(v, tt.step); },
      yfmt: opts.latency ? fmtTickNs : function (v) { return trimNum(v); },
      xlabel: "time (UTC, start of window)",
      ylabel: opts.ylabel + (opts.latency && latencyScale(vs, 0, 1).log ? " (log scale)" : "")
    });
    lines.forEach(function (l) {
      var pts = l.points.map(function (p) { return [f.x(p[0]), f.y(p[1])]; });
      f.plot.appendChild(sv("path", { d: pathOf(pts), fill: "none", stroke: l.color, "stroke-width": 2,
                                      "stroke-dasharray": l.dash || null }));
      pts.forEach(function (p, i) {
        var c = sv("circle", { cx: p[0], cy: p[1], r: 2.6, fill: l.color });
        c.appendChild(sv("title", { text: l.name + " " + fmtClock(l.points[i][0], 1) + ": " +
                                          (opts.latency ? fmtNs(l.points[i][1]) : trimNum(l.points[i][1])) }));
        f.plot.appendChild(c);
      });
    });
    legend(f.svg, lines.map(function (l) { return { name: l.name, color: l.color, dash: l.dash || "" }; }),
           f.W - f.m.r, 20, 600);
    return f.svg;
  }

  /* 100%-stacked horizontal bars: rows [{label, parts: [{name, share, cpu_ns}]}];
   * the SERIAL categories first, with a marker at their sum. */
  function stackedShares(title, rows, serial) {
    var used = {}, names;
    rows.forEach(function (r) { r.parts.forEach(function (p) { if (p.share > 0) used[p.name] = true; }); });
    names = Object.keys(used).sort(function (x, y) {
      var ix = serial.indexOf(x), iy = serial.indexOf(y);
      if (ix >= 0 || iy >= 0) return (ix < 0 ? 99 : ix) - (iy < 0 ? 99 : iy);
      return x < y ? -1 : 1;
    });
    var perRow = 7, lrows = Math.ceil(names.length / perRow);
    var m = { l: 150, r: 30, t: 40, b: 56 + lrows * 16 }, rowH = 36, H = m.t + m.b + rows.length * rowH;
    var f = frame({
      title: title, width: 1100, height: H, margin: m,
      x: function (a, b) { return linScale(0, 100, a, b); },
      y: function (a, b) { return linScale(0, rows.length, b, a); },
      xticks: [0, 20, 40, 60, 80, 100], yticks: [], xfmt: function (v) { return v + "%"; },
      xlabel: "share of the component's sampled CPU time (serialization first, left of the black mark)", ylabel: ""
    });
    rows.forEach(function (r, i) {
      var y0 = m.t + i * rowH + 7, acc = 0, ser = 0;
      f.svg.appendChild(sv("text", { x: m.l - 8, y: y0 + 15, "text-anchor": "end", "class": "tick", text: r.label }));
      var parts = r.parts.slice().sort(function (x, y) {
        var ix = serial.indexOf(x.name), iy = serial.indexOf(y.name);
        if (ix >= 0 || iy >= 0) return (ix < 0 ? 99 : ix) - (iy < 0 ? 99 : iy);
        return y.share - x.share;
      });
      parts.forEach(function (p) {
        if (!(p.share > 0)) return;
        var x0 = f.x(acc * 100), x1 = f.x((acc + p.share) * 100);
        var rect = sv("rect", { x: x0, y: y0, width: Math.max(0.5, x1 - x0), height: 22, fill: catColor(p.name),
                                stroke: "#fff", "stroke-width": 0.8 });
        rect.appendChild(sv("title", { text: r.label + " " + p.name + ": " + fmtPct(p.share) + " (" + fmtNs(p.cpu_ns) + " CPU)" }));
        f.plot.appendChild(rect);
        if (x1 - x0 > 40) {
          f.plot.appendChild(sv("text", { x: (x0 + x1) / 2, y: y0 + 15, "text-anchor": "middle", "class": "tick",
                                          style: "fill:" + textOn(catColor(p.name)), text: fmtPct(p.share) }));
        }
        acc += p.share;
        if (serial.indexOf(p.name) >= 0) ser += p.share;
      });
      var xs = f.x(ser * 100);
      f.plot.appendChild(sv("line", { x1: xs, x2: xs, y1: y0 - 4, y2: y0 + 26, stroke: "#000", "stroke-width": 2.5 }));
    });
    var lg = sv("g", { "class": "legend" });
    names.forEach(function (n, i) {
      var x = m.l + (i % perRow) * 130, y = H - 16 * lrows + Math.floor(i / perRow) * 16 - 4;
      lg.appendChild(sv("rect", { x: x, y: y - 9, width: 12, height: 10, fill: catColor(n) }));
      lg.appendChild(sv("text", { x: x + 16, y: y, text: n + (serial.indexOf(n) >= 0 ? " *" : "") }));
    });
    f.svg.appendChild(lg);
    return f.svg;
  }
  /* black or white text, whichever reads better on COLOR (#rrggbb) */
  function textOn(color) {
    var r = parseInt(color.slice(1, 3), 16), g = parseInt(color.slice(3, 5), 16), b = parseInt(color.slice(5, 7), 16);
    return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#000" : "#fff";
  }
  var CAT_COLORS = {
    json_encode: "#d55e00", json_decode: "#e69f00", protobuf_encode: "#0072b2", protobuf_decode: "#56b4e9",
    yaml: "#cc79a7", gzip: "#009e73", tls: "#7a5c00", http2: "#8c8c8c", grpc: "#4d4d4d",
    etcd_storage: "#00573f", gc: "#b39ddb", syscall: "#a6a6a6", other: "#d9d9d9", unknown: "#f0e442"
  };
  function catColor(n) { return CAT_COLORS[n] || "#bbbbbb"; }

  /* Scatter of trend changes, log-log, with the agreement regions. */
  function trendScatter(doc) {
    var pts = doc.calls.filter(function (c) { return c.real_change > 0 && c.km_change > 0; });
    if (!pts.length) return null;
    var vals = [];
    pts.forEach(function (c) { vals.push(c.real_change, c.km_change); });
    var lo = Math.min(0.25, Math.min.apply(null, vals) / 1.3), hi = Math.max(4, Math.max.apply(null, vals) * 1.3);
    var th = doc.thresholds || {}, nl = th.no_change_low || 0.8, nh = th.no_change_high || 1.25;
    var ticks = [0.01, 0.1, 0.25, 0.5, 1, 2, 4, 10, 20, 50, 100].filter(function (v) { return v >= lo && v <= hi; });
    var f = frame({
      title: "p99 change, real cluster vs Kubemark (after / before)", width: 760, height: 620,
      margin: { l: 80, r: 200, t: 34, b: 56 },
      x: function (a, b) { return logScale(lo, hi, a, b); },
      y: function (a, b) { return logScale(lo, hi, a, b); },
      xticks: ticks, yticks: ticks,
      xfmt: function (v) { return trimNum(v) + "x"; }, yfmt: function (v) { return trimNum(v) + "x"; },
      xlabel: "real cluster: p99 after / p99 before (log scale)", ylabel: "Kubemark: p99 after / p99 before (log scale)"
    });
    /* no-change box and the diagonal */
    f.plot.appendChild(sv("rect", { x: f.x(nl), y: f.y(nh), width: f.x(nh) - f.x(nl), height: f.y(nl) - f.y(nh),
                                    fill: "#009e73", "fill-opacity": 0.12, stroke: "#009e73", "stroke-dasharray": "4 3" }));
    f.plot.appendChild(sv("line", { x1: f.x(lo), y1: f.y(lo), x2: f.x(hi), y2: f.y(hi), stroke: "#888", "stroke-dasharray": "2 3" }));
    var vc = { agree: "#009e73", disagree: "#d55e00", low_confidence: "#999999", missing: "#999999" }, labelled = 0;
    pts.forEach(function (c) {
      var dot = sv("circle", { cx: f.x(c.real_change), cy: f.y(c.km_change), r: c.verdict === "disagree" ? 6 : 4.5,
                               fill: vc[c.verdict] || "#999", "fill-opacity": 0.85, stroke: "#fff" });
      dot.appendChild(sv("title", { text: callName(c) + ": real " + fmtRatio(c.real_change) + ", Kubemark " +
                                          fmtRatio(c.km_change) + " (" + c.verdict + ")" }));
      f.plot.appendChild(dot);
      if (c.verdict === "disagree" && labelled++ < 12) {
        f.plot.appendChild(sv("text", { x: f.x(c.real_change) + 8, y: f.y(c.km_change) + 4, "class": "tick",
                                        text: c.verb + " " + (c.resource || c.path || "") }));
      }
    });
    legendColumn(f.svg, [{ name: "agree", color: vc.agree }, { name: "disagree", color: vc.disagree },
                   { name: "low confidence", color: vc.low_confidence },
                   { name: "no change [" + nl + ", " + nh + "]", color: "#009e73", opacity: 0.25 }], f.W - 185, 60);
    return f.svg;
  }

  /* ---- tables ---------------------------------------------------------------- */

  /* cols: [{name, num, get(row) -> value for sorting, show(row) -> text or node, title}] */
  function sortableTable(cols, rows, rowClass) {
    var thead = el("thead"), tbody = el("tbody"), table = el("table", { "class": "calls" }, [thead, tbody]);
    var tr = el("tr");
    var state = { col: -1, dir: 1 };
    cols.forEach(function (c, i) {
      var th = el("th", { "class": c.num ? "num" : null, scope: "col", title: c.title || "click to sort", text: c.name });
      th.addEventListener("click", function () { sortBy(i); });
      tr.appendChild(th);
    });
    thead.appendChild(tr);
    function fill(order) {
      while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
      order.forEach(function (r) {
        var row = el("tr", { "class": rowClass ? rowClass(r) : null });
        cols.forEach(function (c) {
          var v = c.show ? c.show(r) : c.get(r);
          var td = el("td", { "class": c.num ? "num" : null });
          if (v && typeof v === "object" && v.nodeType) td.appendChild(v);
          else td.textContent = v === null || v === undefined ? "-" : String(v);
          row.appendChild(td);
        });
        tbody.appendChild(row);
      });
    }
    function sortBy(i) {
      state.dir = state.col === i ? -state.dir : (cols[i].num ? -1 : 1);
      state.col = i;
      var g = cols[i].get;
      var sorted = rows.slice().sort(function (a, b) {
        var x = g(a), y = g(b);
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        return (x < y ? -1 : x > y ? 1 : 0) * state.dir;
      });
      Array.prototype.forEach.call(thead.querySelectorAll("th"), function (th, j) {
        if (j === i) th.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
        else th.removeAttribute("aria-sort");
      });
      fill(sorted);
    }
    fill(rows);
    return rows.length > 14 ? el("div", { "class": "scroll" }, [table]) : table;
  }
  function badge(text, cls, title) { return el("span", { "class": "badge " + cls, title: title || null, text: text }); }
  function metaTable(rows) {
    var t = el("table", { "class": "meta" });
    rows.forEach(function (r) {
      if (!r) return;
      var tr = el("tr", null, [el("th", { scope: "row", text: r[0] })]);
      r.slice(1).forEach(function (v) { tr.appendChild(el("td", { text: v === null || v === undefined ? "-" : String(v) })); });
      t.appendChild(tr);
    });
    return t;
  }
  function section(title, kids, id) {
    return el("section", { id: id || null }, [el("h2", { text: title })].concat(kids));
  }
  function select(label, options, onchange) {
    var s = el("select");
    options.forEach(function (o, i) { s.appendChild(el("option", { value: i, text: o })); });
    s.addEventListener("change", function () { onchange(Number(s.value)); });
    return el("div", { "class": "controls" }, [el("label", { text: label }), s]);
  }
  /* a chart that a <select> switches: draw(i) returns the chart node */
  function switchable(label, options, draw) {
    var holder = el("div");
    function show(i) {
      while (holder.firstChild) holder.removeChild(holder.firstChild);
      var n = draw(i);
      if (n) holder.appendChild(n);
    }
    var ctl = select(label, options, show);
    show(0);
    return el("div", null, [ctl, holder]);
  }
  function clusterSize(r) {
    if (r.nodes === null && r.pods === null && r.namespaces === null) return "unknown";
    return fmtInt(r.nodes) + " nodes, " + fmtInt(r.pods) + " pods, " + fmtInt(r.namespaces) + " namespaces" +
      (r.cluster_source ? " (from " + r.cluster_source + ")" : "");
  }
  function targetsText(ts) {
    return (ts || []).map(function (t) {
      var v = [t.go_version, t.k8s_version ? "k8s " + t.k8s_version : null, t.etcd_version ? "etcd " + t.etcd_version : null]
        .filter(Boolean).join(", ");
      return t.component + " pid " + t.pid + (v ? " (" + v + ")" : "") + (t.exe ? " " + t.exe : "");
    }).join("; ") || "-";
  }

  /* ---- the report ----------------------------------------------------------------- */

  function renderReport(doc, app) {
    var runs = doc.runs || [];
    document.getElementById("cp-sub").textContent = runs.length + " run" + (runs.length === 1 ? "" : "s") + ": " +
      runs.map(function (r) { return r.label + " (" + r.kind + ")"; }).join(", ");
    if (!runs.length) { app.appendChild(el("p", { text: "The file holds no runs." })); return; }
    var holder = el("div");
    function show(i) {
      while (holder.firstChild) holder.removeChild(holder.firstChild);
      renderRun(runs[i], holder);
    }
    if (runs.length > 1) {
      app.appendChild(select("run:", runs.map(function (r) { return r.label + " (" + r.kind + ", " + fmtDate(r.started_ns) + ")"; }), show));
    }
    app.appendChild(holder);
    show(0);
  }

  function renderRun(run, app) {
    var calls = run.calls || [];
    app.appendChild(section("Run '" + run.label + "'", [metaTable([
      ["label, kind", run.label + ", " + run.kind],
      ["recorded", fmtDate(run.started_ns) + " to " + (run.ended_ns ? fmtDate(run.ended_ns) : "(no end recorded)") +
        ", " + fmtDuration(run.duration_ns)],
      ["host, kernel", (run.host || "-") + ", " + (run.kernel || "-")],
      ["cluster size", clusterSize(run)],
      ["requests", fmtInt(run.requests) + " stored; " + fmtInt(run.lost_events) + " lost events, " +
        fmtInt(run.unmatched) + " unmatched"],
      ["CPU sampling", run.sample_hz ? run.sample_hz + " Hz, " + fmtInt(run.lost_samples) + " samples lost" : "off"],
      ["dropped", run.dropped_note ? run.dropped_note + "; " + fmtInt(run.dropped_rows) +
        " other rows (CPU stacks, syscalls, sockets, metrics)" : "none"],
      ["targets", targetsText(run.targets)],
      ["command", run.command || "-"]
    ])], "run"));

    var bad = calls.filter(function (c) { return c.slo_ok === false; });
    var tbl = sortableTable([
      { name: "component", get: function (c) { return c.component; } },
      { name: "verb", get: function (c) { return c.verb; } },
      { name: "resource / path", get: function (c) { return c.path !== null ? c.path : c.resource + (c.subresource ? "/" + c.subresource : ""); } },
      { name: "scope", get: function (c) { return c.scope; } },
      { name: "count", num: true, get: function (c) { return c.count; }, show: function (c) { return fmtInt(c.count); } },
      { name: "req/s", num: true, get: function (c) { return c.rate_per_s; }, show: function (c) { return fmtNum(c.rate_per_s, 2); } },
      { name: "p50", num: true, get: function (c) { return c.p50_ns; }, show: function (c) { return fmtNs(c.p50_ns); } },
      { name: "p90", num: true, get: function (c) { return c.p90_ns; }, show: function (c) { return fmtNs(c.p90_ns); } },
      { name: "p99", num: true, get: function (c) { return c.p99_ns; }, show: function (c) { return fmtNs(c.p99_ns); } },
      { name: "max", num: true, get: function (c) { return c.max_ns; }, show: function (c) { return fmtNs(c.max_ns); } },
      { name: "errors", num: true, get: function (c) { return c.errors; }, show: function (c) { return fmtInt(c.errors); } },
      { name: "SLO", get: function (c) { return c.slo_ok === null ? 2 : c.slo_ok ? 1 : 0; },
        show: function (c) {
          if (c.slo_ok === null || c.slo_ok === undefined) return "-";
          var t = "p99 <= " + fmtNs(c.slo_threshold_ns) + " in " + fmtInt(c.slo_windows) + " 5-minute windows" +
            (c.slo_windows_failed ? ", " + c.slo_windows_failed + " failed; worst p99 " + fmtNs(c.slo_worst_p99_ns) : "");
          return c.slo_ok ? badge("ok", "good", t) : badge("FAIL " + c.slo_windows_failed + "/" + c.slo_windows, "bad", t);
        } }
    ], calls, function (c) { return c.slo_ok === false ? "flagged" : null; });
    app.appendChild(section("Call kinds", [
      el("p", { "class": "note", text: calls.length + " call kinds. Percentiles are exact (nearest rank) over the whole run; " +
        "errors are HTTP 5xx and 429, and gRPC calls not OK. SLO: Kubernetes API-call latency, p99 per 5-minute window <= 1 s " +
        "(mutating, single get), 5 s (namespace list), 30 s (cluster list); " + bad.length + " kind(s) fail it. Click a heading to sort." }),
      tbl
    ], "calls"));
    if (!calls.length) return;

    /* p50/p90/p99 bars for the busiest kinds */
    var top = calls.slice().sort(function (a, b) { return b.count - a.count; }).slice(0, TOP_KINDS)
      .sort(function (a, b) { return b.p99_ns - a.p99_ns; })
      .map(function (c) { return { label: callName(c), c: c, mark: c.slo_ok === false ? "SLO" : null }; });
    app.appendChild(section("Latency percentiles per call kind", [percentileBars(
      "p50, p90 and p99 latency per call kind", top,
      [{ name: "p50", color: "#56b4e9", get: function (it) { return it.c.p50_ns; } },
       { name: "p90", color: "#0072b2", get: function (it) { return it.c.p90_ns; } },
       { name: "p99", color: "#d55e00", get: function (it) { return it.c.p99_ns; } }],
      (calls.length > TOP_KINDS ? "The " + TOP_KINDS + " call kinds with the most requests, of " + calls.length +
        " (all are in the table above); " : "") + "sorted by p99. Exact percentiles.")], "percentiles"));

    /* CDFs */
    var withHist = calls.filter(function (c) { return c.hist && c.hist.length; });
    if (withHist.length) {
      var busiest = withHist.slice().sort(function (a, b) { return b.count - a.count; });
      var opts = ["the 6 busiest call kinds"].concat(busiest.map(callName));
      app.appendChild(section("Latency distribution (CDF)", [switchable("call kind:", opts, function (i) {
        var sel = i === 0 ? busiest.slice(0, 6) : [busiest[i - 1]];
        return cdfChart("Cumulative distribution of latency", sel.map(function (c, j) {
          return { name: callName(c) + " (" + fmtInt(c.count) + ")", color: COLORS[j % COLORS.length], hist: c.hist };
        }));
      })], "cdf"));
    }

    /* latency and rate over time */
    var withTl = calls.filter(function (c) { return c.timeline && c.timeline.length; });
    if (withTl.length) {
      var byCount = withTl.slice().sort(function (a, b) { return b.count - a.count; });
      var win = run.timeline_window_ns || 10e9;
      var runEnd = run.started_ns + (run.duration_ns || 0);
      app.appendChild(section("Latency over time", [
        el("p", { "class": "note", text: "Per " + fmtDuration(win) + " window; p50 and p99 are histogram bucket bounds (at most 25% high)." }),
        switchable("call kind:", byCount.map(callName), function (i) {
          var c = byCount[i];
          return timeChart(callName(c) + ": p50 and p99 per window", [
            { name: "p99", color: "#d55e00", points: c.timeline.map(function (w) { return [w.start_ns, w.p99_ns]; }) },
            { name: "p50", color: "#0072b2", dash: "6 4", points: c.timeline.map(function (w) { return [w.start_ns, w.p50_ns]; }) }
          ], { latency: true, ylabel: "latency", t1: runEnd });
        })], "timeline"));

      /* requests and errors per second, per component */
      var comps = {}, errs = {};
      withTl.forEach(function (c) {
        comps[c.component] = comps[c.component] || {};
        errs[c.component] = errs[c.component] || {};
        c.timeline.forEach(function (w) {
          comps[c.component][w.start_ns] = (comps[c.component][w.start_ns] || 0) + w.count;
          errs[c.component][w.start_ns] = (errs[c.component][w.start_ns] || 0) + w.errors;
        });
      });
      var lines = [], elines = [], anyErr = false;
      Object.keys(comps).sort().forEach(function (comp, j) {
        var ks = Object.keys(comps[comp]).map(Number).sort(function (a, b) { return a - b; });
        lines.push({ name: comp, color: COLORS[j % COLORS.length],
                     points: ks.map(function (k) { return [k, comps[comp][k] / (win / 1e9)]; }) });
        elines.push({ name: comp, color: COLORS[j % COLORS.length],
                      points: ks.map(function (k) { if (errs[comp][k]) anyErr = true; return [k, errs[comp][k] / (win / 1e9)]; }) });
      });
      app.appendChild(section("Request and error rates", [
        timeChart("Requests per second, per component", lines, { ylabel: "requests per second", t1: runEnd }),
        anyErr ? timeChart("Errors per second (HTTP 5xx and 429, gRPC not OK), per component", elines,
                           { ylabel: "errors per second", t1: runEnd, height: 240 })
               : el("p", { "class": "note", text: "No errors in the run." }),
        el("p", { "class": "note", text: "Per " + fmtDuration(win) + " window, averaged over the window (the last window may be partial, so lower)." })],
        "rates"));
    }

    renderFsync(run, app);
    renderCpu(run.cpu, app, run.label);
    renderBreakdown(run, app);
    renderClients(run, app);
    renderMetricsCheck(run, app);
    renderCl2(run, app);
  }

  /* Where each call kind's requests spent their time (run.breakdown, REPORT-JSON.md):
   * a stacked bar for the median request, the mean and the slowest 1%, all of one kind
   * on the scale of the slowest 1%'s latency; what no part accounts for is "unknown". */
  var BD_PARTS = [
    { key: "etcd_ns", name: "etcd", color: "#4e79a7" },
    { key: "ser_ns", name: "serialization", color: "#e15759" },
    { key: "cpu_other_ns", name: "other CPU", color: "#f28e2b" },
    { key: "apf_wait_ns", name: "APF wait", color: "#b07aa1" },
    { key: "other_ns", name: "rest (waiting)", color: "#bab0ac" }
  ];
  function bdBar(p, scale) {
    var vals = {
      etcd_ns: p.etcd_ns, ser_ns: p.serialization_ns, apf_wait_ns: p.apf_wait_ns, other_ns: p.other_ns,
      cpu_other_ns: p.cpu_ns === null ? null : p.cpu_ns - (p.serialization_ns || 0)
    };
    var bar = el("div", { style: "display:flex;height:18px;width:600px;background:#fff;border:1px solid #ccc" });
    var known = 0;
    BD_PARTS.forEach(function (d) {
      var v = vals[d.key];
      if (!(v > 0) || !(scale > 0)) return;
      known += v;
      bar.appendChild(el("div", { title: d.name + ": " + fmtNs(v), style: "background:" + d.color + ";width:" + (100 * v / scale).toFixed(2) + "%" }));
    });
    if (p.latency_ns > known && scale > 0) {
      bar.appendChild(el("div", { title: "unknown: " + fmtNs(p.latency_ns - known),
        style: "background:repeating-linear-gradient(45deg,#eee,#eee 3px,#ccc 3px,#ccc 6px);width:" + (100 * (p.latency_ns - known) / scale).toFixed(2) + "%" }));
    }
    return bar;
  }
  function renderBreakdown(run, app) {
    var bd = run.breakdown || [];
    if (!bd.length) return;
    var rows = [];
    bd.forEach(function (b) {
      var name = b.component + " " + b.verb + " " + (b.resource || "-") + (b.subresource ? "/" + b.subresource : "") + (b.scope ? " " + b.scope : "");
      [["median", b.median], ["mean", b.mean], ["slowest 1%", b.p99]].forEach(function (w, i) {
        var p = w[1];
        rows.push(el("tr", null, [
          el("td", { text: i === 0 ? name + " (" + b.count + ")" : "" }), el("td", { text: w[0] }),
          el("td", { "class": "num", text: fmtNs(p.latency_ns) }),
          el("td", { "class": "num", text: p.etcd_calls === null ? "-" : p.etcd_calls.toFixed(1) }),
          el("td", { "class": "num", text: fmtNs(p.etcd_ns) }), el("td", { "class": "num", text: fmtNs(p.cpu_ns) }),
          el("td", { "class": "num", text: fmtNs(p.serialization_ns) }), el("td", { "class": "num", text: fmtNs(p.apf_wait_ns) }),
          el("td", { "class": "num", text: fmtNs(p.other_ns) }), el("td", null, [bdBar(p, b.p99.latency_ns)])]));
      });
    });
    var head = el("tr", null, ["call kind (requests)", "which", "latency", "etcd calls", "etcd", "CPU", "serialization", "APF wait", "rest", "where the time goes"]
      .map(function (t) { return el("th", { text: t }); }));
    var legend = el("p", { "class": "note" }, BD_PARTS.map(function (d) {
      return el("span", { style: "margin-right:1em" }, [el("span", { style: "display:inline-block;width:12px;height:10px;background:" + d.color }), " " + d.name]);
    }).concat([el("span", { text: "hatched: unknown (\u201c-\u201d: not measured in this run)" })]));
    app.appendChild(section("Where the time goes, per request", [legend,
      el("table", { "class": "calls" }, [el("thead", null, head), el("tbody", null, rows)]),
      el("p", { "class": "note", text: "Per call kind: the median request, the mean over all, and the slowest 1% (at least one), each averaged; " +
        "bars of one kind share the slowest 1%'s latency as scale. etcd is the union of the request's etcd calls as the apiserver's client saw them; " +
        "CPU is sampled (an estimate per request); the rest is waiting (APF included while it is not measured)." })], "breakdown"));
  }

  function renderFsync(run, app) {
    var wf = run.wal_fsync || [];
    if (!wf.length) return;
    var kids = [sortableTable([
      { name: "syscall", get: function (r) { return r.syscall; } },
      { name: "count", num: true, get: function (r) { return r.count; }, show: function (r) { return fmtInt(r.count); } },
      { name: "p50", num: true, get: function (r) { return r.p50_ns; }, show: function (r) { return fmtNs(r.p50_ns); } },
      { name: "p99", num: true, get: function (r) { return r.p99_ns; }, show: function (r) { return fmtNs(r.p99_ns); } },
      { name: "mean", num: true, get: function (r) { return r.count ? r.sum_ns / r.count : null; },
        show: function (r) { return r.count ? fmtNs(r.sum_ns / r.count) : "-"; } }
    ], wf)];
    wf.forEach(function (s) {
      var iv = s.intervals || [];
      if (!iv.length) return;
      kids.push(timeChart("etcd " + s.syscall + " latency per interval", [
        { name: "p99", color: "#d55e00", points: iv.map(function (w) { return [w.interval_start_ns, w.p99_ns]; }) },
        { name: "p50", color: "#0072b2", dash: "6 4", points: iv.map(function (w) { return [w.interval_start_ns, w.p50_ns]; }) }
      ], { latency: true, ylabel: "latency", height: 260 }));
      kids.push(timeChart("etcd " + s.syscall + " calls per second", [
        { name: s.syscall + "/s", color: "#009e73",
          points: iv.map(function (w) { return [w.interval_start_ns, w.count / (w.interval_ns / 1e9)]; }) }
      ], { ylabel: "calls per second", height: 220 }));
    });
    kids.push(el("p", { "class": "note", text: "fdatasync and fsync of etcd (its WAL), all etcd targets merged. Percentiles are log-linear bucket bounds, at most 25% above the exact value." }));
    app.appendChild(section("etcd WAL fsync", kids, "fsync"));
  }

  function renderCpu(cpu, app, label, other, otherLabel) {
    if (!cpu || !cpu.components || !cpu.components.length) return;
    var kids = [];
    var rows = [];
    function addRows(c, lbl) {
      c.components.forEach(function (k) {
        rows.push({ label: (lbl ? lbl + ": " : "") + k.component, parts: (k.categories || []).map(function (c) {
          return { name: c.category, share: c.share, cpu_ns: c.cpu_ns };
        }) });
      });
    }
    addRows(cpu, other ? label : null);
    if (other && other.components) addRows(other, otherLabel);
    kids.push(stackedShares("CPU time by category of work, per component", rows, cpu.serialization_categories || []));
    var comps = cpu.components.map(function (k) { return k; });
    if (other && other.components) comps = comps.concat(other.components.map(function (k) { k = Object.assign({}, k); k._side = otherLabel; return k; }));
    kids.push(sortableTable([
      { name: "run", get: function (k) { return k._side || label; } },
      { name: "component", get: function (k) { return k.component; } },
      { name: "samples", num: true, get: function (k) { return k.samples; }, show: function (k) { return fmtInt(k.samples); } },
      { name: "sampled CPU", num: true, get: function (k) { return k.sampled_cpu_ns; }, show: function (k) { return fmtNs(k.sampled_cpu_ns); } },
      { name: "kernel-accounted CPU", num: true, get: function (k) { return k.kernel_cpu_ns; }, show: function (k) { return fmtNs(k.kernel_cpu_ns); } },
      { name: "serialization", num: true, get: function (k) { return k.serialization_share; },
        show: function (k) { return fmtPct(k.serialization_share) + " (" + fmtNs(k.serialization_cpu_ns) + ")"; } },
      { name: "unknown", num: true, get: function (k) { return k.unknown_share; }, show: function (k) { return fmtPct(k.unknown_share); } }
    ], comps));
    kids.push(el("p", { "class": "note", text: "Serialization (* in the legend) is " + (cpu.serialization_categories || []).join(", ") +
      ". Sampled CPU should agree with the kernel's account within sampling error; unknown is samples that could not be symbolized." }));

    var top = (cpu.top_serialization || []).filter(function (t) { return t.ns_per_request !== null; }).slice(0, 15);
    if (top.length && !other) {
      kids.push(percentileBars("Serialization CPU per request, top call kinds", top.map(function (t) {
        return { label: callName(t) + " (" + fmtInt(t.requests) + ")", t: t };
      }), [{ name: "serialization CPU per request", color: "#cc79a7", get: function (it) { return it.t.ns_per_request; } }],
      "Sampled CPU in " + (cpu.serialization_categories || []).join(", ") + " of requests of the kind, divided by their count; " +
      "the count of requests is in parentheses.", "serialization CPU time per request"));
    }
    app.appendChild(section("Serialization CPU", kids, "cpu"));
  }

  function renderClients(run, app) {
    var cl = run.clients || [];
    if (!cl.length) return;
    app.appendChild(section("Clients served", [sortableTable([
      { name: "component", get: function (r) { return r.component; } },
      { name: "accepted", num: true, get: function (r) { return r.accepted; }, show: function (r) { return fmtInt(r.accepted); } },
      { name: "closed", num: true, get: function (r) { return r.closed; }, show: function (r) { return fmtInt(r.closed); } },
      { name: "peers max", num: true, get: function (r) { return r.peers_max; }, show: function (r) { return fmtInt(r.peers_max); } },
      { name: "bytes in", num: true, get: function (r) { return r.bytes_in; }, show: function (r) { return fmtBytes(r.bytes_in); } },
      { name: "bytes out", num: true, get: function (r) { return r.bytes_out; }, show: function (r) { return fmtBytes(r.bytes_out); } },
      { name: "retransmits", num: true, get: function (r) { return r.retransmits; }, show: function (r) { return fmtInt(r.retransmits); } }
    ], cl), el("p", { "class": "note", text: "TCP connections on the targets' listening ports; peers max is the most distinct client addresses of one target in one interval." })],
    "clients"));
  }

  /* ---- cpprof beside the components' own metrics (REPORT-JSON.md METRICS_CHECK, CL2) ---- */

  function verdictBadge(v, reason) {
    return badge(v, v === "agree" ? "good" : v === "disagree" ? "bad" : "info", reason);
  }
  function kindName(c) {
    return c.verb + " " + (c.resource || "-") + (c.subresource ? "/" + c.subresource : "") + " " + c.scope;
  }
  function checkRow(what, cpprof, metric, chk) {
    return { what: what, cpprof: cpprof, metric: metric, verdict: chk.verdict, reason: chk.reason };
  }
  function renderMetricsCheck(run, app) {
    var mc = run.metrics_check;
    if (!mc) return;
    var rows = [];
    (run.calls || []).forEach(function (c) {
      if (!c.metrics) return;
      rows.push(checkRow(kindName(c), c.count, c.metrics.count,
        { verdict: c.metrics.verdict, reason: c.metrics.reason }));
    });
    if (mc.apiserver) {
      mc.apiserver.metric_only.forEach(function (c) {
        rows.push(checkRow(kindName(c), 0, c.count,
          { verdict: "disagree", reason: "only in apiserver_request_total" }));
      });
    }
    if (mc.etcd) {
      var f = mc.etcd.fdatasync;
      rows.push(checkRow("etcd fdatasync (WAL + 2 x commit)", f.cpprof_count,
        f.wal_fsync.count + 2 * f.backend_commit.count, f.count_check));
      rows.push(checkRow("etcd fdatasync p50 (wal_fsync)", f.cpprof_p50_ns === null ? null : fmtNs(f.cpprof_p50_ns), "bucket", f.p50_check));
      rows.push(checkRow("etcd fdatasync p99 (wal_fsync)", f.cpprof_p99_ns === null ? null : fmtNs(f.cpprof_p99_ns), "bucket", f.p99_check));
      mc.etcd.grpc.forEach(function (g) { rows.push(checkRow("etcd gRPC " + g.method, g.cpprof_count, g.handled, g.check)); });
    }
    mc.endpoints.forEach(function (e) {
      if (e.cpu_seconds === null && e.cpprof_cpu_ns === null) return;
      rows.push(checkRow("CPU s of " + e.component, e.cpprof_cpu_ns === null ? null : fmtNum(e.cpprof_cpu_ns / 1e9, 2),
        e.cpu_seconds === null ? null : fmtNum(e.cpu_seconds, 2), e.cpu_check));
    });
    var nd = rows.filter(function (r) { return r.verdict === "disagree"; }).length;
    var kids = [
      el("p", { "class": "note", text: nd ? nd + " disagreement" + (nd === 1 ? "" : "s") + ", named below." :
        "No disagreement: every check agrees or is unknown." }),
      sortableTable([
        { name: "check", get: function (r) { return r.what; } },
        { name: "cpprof", num: true, get: function (r) { return r.cpprof; } },
        { name: "metric", num: true, get: function (r) { return r.metric; } },
        { name: "verdict", get: function (r) { return r.verdict; }, show: function (r) { return verdictBadge(r.verdict, r.reason); } },
        { name: "reason", get: function (r) { return r.reason; } }
      ], rows),
      el("h3", { text: "Scraped endpoints" }),
      sortableTable([
        { name: "endpoint", get: function (e) { return e.url; } },
        { name: "component", get: function (e) { return e.component; } },
        { name: "scrapes", num: true, get: function (e) { return e.scrapes; } },
        { name: "read", num: true, get: function (e) { return e.ok; } },
        { name: "errors", get: function (e) {
          var k = Object.keys(e.errors);
          return k.length ? k.map(function (n) { return e.errors[n] + " " + n; }).join(", ") +
            (e.last_error ? " (last: " + e.last_error + ")" : "") : "none";
        } }
      ], mc.endpoints)
    ];
    if (mc.apiserver && mc.apiserver.sli_windows.length) {
      kids.push(el("h3", { text: "SLO both ways" }));
      kids.push(el("p", { "class": "note", text: "cpprof's exact p99 per 5-minute window beside clusterloader2's " +
        "histogram_quantile over apiserver_request_sli_duration_seconds, which leaves out webhooks and long-running " +
        "requests and interpolates inside its bucket." }));
      kids.push(sortableTable([
        { name: "call", get: function (w) { return kindName(w); } },
        { name: "window", get: function (w) { return w.window_start_ns; }, show: function (w) { return fmtDate(w.window_start_ns); } },
        { name: "cpprof n", num: true, get: function (w) { return w.cpprof_count; } },
        { name: "cpprof p99", num: true, get: function (w) { return w.cpprof_p99_ns; }, show: function (w) { return w.cpprof_p99_ns === null ? "-" : fmtNs(w.cpprof_p99_ns); } },
        { name: "SLI n", num: true, get: function (w) { return w.sli_count; } },
        { name: "SLI p99", num: true, get: function (w) { return w.sli_p99_ns; }, show: function (w) {
          return w.sli_p99_ns === null ? "-" : fmtNs(w.sli_p99_ns) + " in (" + fmtNs(w.sli_p99_bucket_ns[0]) + ", " + fmtNs(w.sli_p99_bucket_ns[1]) + "]";
        } }
      ], mc.apiserver.sli_windows));
    }
    app.appendChild(section("Cross-check with the components' own metrics", kids, "metrics-check"));
  }
  function renderCl2(run, app) {
    var cl = run.cl2;
    if (!cl) return;
    function ms(v) { return v === null ? "-" : fmtNs(Math.round(v * 1e6)); }
    function ns(c, k) { return c.cpprof ? fmtNs(c.cpprof[k]) : "-"; }
    app.appendChild(section("clusterloader2 beside cpprof", [
      el("p", { "class": "note", text: cl.file }),
      sortableTable([
        { name: "call", get: function (c) { return kindName(c); } },
        { name: "cl2 n", num: true, get: function (c) { return c.count; } },
        { name: "cpprof n", num: true, get: function (c) { return c.cpprof ? c.cpprof.count : null; } },
        { name: "cl2 p50", num: true, get: function (c) { return c.p50_ms; }, show: function (c) { return ms(c.p50_ms); } },
        { name: "cpprof p50", num: true, get: function (c) { return c.cpprof ? c.cpprof.p50_ns : null; }, show: function (c) { return ns(c, "p50_ns"); } },
        { name: "cl2 p99", num: true, get: function (c) { return c.p99_ms; }, show: function (c) { return ms(c.p99_ms); } },
        { name: "cpprof p99", num: true, get: function (c) { return c.cpprof ? c.cpprof.p99_ns : null; }, show: function (c) { return ns(c, "p99_ns"); } }
      ], cl.calls)], "cl2"));
  }

  /* ---- the diff ------------------------------------------------------------------------ */

  function runsumRows(a, b) {
    function t(r, comp) {
      return (r.targets || []).filter(function (x) { return x.component === comp; }).map(function (x) {
        return [x.go_version, x.k8s_version ? "k8s " + x.k8s_version : null, x.etcd_version ? "etcd " + x.etcd_version : null]
          .filter(Boolean).join(", ") || "-";
      }).join("; ") || "-";
    }
    var comps = {};
    [a, b].forEach(function (r) { (r.targets || []).forEach(function (x) { comps[x.component] = true; }); });
    var rows = [
      ["", "BASE", "CAND"],
      ["file", a.db, b.db],
      ["label, kind", a.label + ", " + a.kind, b.label + ", " + b.kind],
      ["recorded", fmtDate(a.started_ns), fmtDate(b.started_ns)],
      ["duration", fmtDuration(a.duration_ns), fmtDuration(b.duration_ns)],
      ["host, kernel", (a.host || "-") + ", " + (a.kernel || "-"), (b.host || "-") + ", " + (b.kernel || "-")],
      ["cluster size", clusterSize(a), clusterSize(b)],
      ["requests", fmtInt(a.requests), fmtInt(b.requests)]
    ];
    Object.keys(comps).sort().forEach(function (c) { rows.push([c + " versions", t(a, c), t(b, c)]); });
    return rows;
  }

  function renderDiff(doc, app) {
    var a = doc.base, b = doc.cand, calls = doc.calls || [], th = doc.thresholds || {};
    document.getElementById("cp-sub").textContent = "BASE " + a.label + " (" + a.kind + ") vs CAND " + b.label + " (" + b.kind + ")";
    var mt = metaTable(runsumRows(a, b));
    mt.querySelector("tr").className = "head";
    app.appendChild(section("Runs compared", [mt], "runs"));
    var flagged = calls.filter(function (c) { return c.flags && c.flags.length; });
    app.appendChild(section("Summary", [
      el("p", { "class": "summary", text: (doc.summary && doc.summary.text) || "" }),
      el("p", { "class": "note", text: "Ratios are CAND / BASE. A kind is flagged p99 when its p99 ratio is outside [" +
        th.ratio_low + ", " + th.ratio_high + "] and the p99s differ by at least " + fmtNs(th.min_delta_ns) +
        ", unless either side has fewer than " + th.min_count + " requests (low confidence: shown, never flagged)." })
    ], "summary"));

    function ratioCell(r, flag) {
      if (r === null || r === undefined) return "-";
      var s = el("span", { text: fmtRatio(r) });
      if (flag) s = badge(fmtRatio(r), r > 1 ? "bad" : "info", "outside the threshold");
      return s;
    }
    /* flagged kinds first, then in the document's order (by call key) */
    var rows = flagged.concat(calls.filter(function (c) { return !(c.flags && c.flags.length); }));
    app.appendChild(section("Call kinds", [sortableTable([
      { name: "flags", get: function (c) { return (c.flags || []).join(" ") || (c.low_confidence ? "~" : ""); },
        show: function (c) {
          var s = el("span");
          (c.flags || []).forEach(function (f) { s.appendChild(badge(f, f === "p99" || f === "slo" ? "bad" : "warn")); });
          if (c.low_confidence) s.appendChild(badge("low conf.", "info", "fewer than " + th.min_count + " requests on a side"));
          return s;
        } },
      { name: "component", get: function (c) { return c.component; } },
      { name: "verb", get: function (c) { return c.verb; } },
      { name: "resource / path", get: function (c) { return c.path !== null ? c.path : c.resource + (c.subresource ? "/" + c.subresource : ""); } },
      { name: "scope", get: function (c) { return c.scope; } },
      { name: "count B", num: true, get: function (c) { return c.base ? c.base.count : null; }, show: function (c) { return c.base ? fmtInt(c.base.count) : "-"; } },
      { name: "count C", num: true, get: function (c) { return c.cand ? c.cand.count : null; }, show: function (c) { return c.cand ? fmtInt(c.cand.count) : "-"; } },
      { name: "p50 B", num: true, get: function (c) { return c.base ? c.base.p50_ns : null; }, show: function (c) { return c.base ? fmtNs(c.base.p50_ns) : "-"; } },
      { name: "p50 C", num: true, get: function (c) { return c.cand ? c.cand.p50_ns : null; }, show: function (c) { return c.cand ? fmtNs(c.cand.p50_ns) : "-"; } },
      { name: "p99 B", num: true, get: function (c) { return c.base ? c.base.p99_ns : null; }, show: function (c) { return c.base ? fmtNs(c.base.p99_ns) : "-"; } },
      { name: "p99 C", num: true, get: function (c) { return c.cand ? c.cand.p99_ns : null; }, show: function (c) { return c.cand ? fmtNs(c.cand.p99_ns) : "-"; } },
      { name: "p50 ratio", num: true, get: function (c) { return c.ratio ? c.ratio.p50 : null; }, show: function (c) { return ratioCell(c.ratio && c.ratio.p50, false); } },
      { name: "p90 ratio", num: true, get: function (c) { return c.ratio ? c.ratio.p90 : null; }, show: function (c) { return ratioCell(c.ratio && c.ratio.p90, false); } },
      { name: "p99 ratio", num: true, get: function (c) { return c.ratio ? c.ratio.p99 : null; },
        show: function (c) { return ratioCell(c.ratio && c.ratio.p99, (c.flags || []).indexOf("p99") >= 0); } },
      { name: "rate ratio", num: true, get: function (c) { return c.ratio ? c.ratio.rate : null; }, show: function (c) { return ratioCell(c.ratio && c.ratio.rate, false); } },
      { name: "SLO B / C", get: function (c) { return slo(c.base) + slo(c.cand); }, show: function (c) { return slo(c.base) + " / " + slo(c.cand); } }
    ], rows, function (c) { return c.flags && c.flags.length ? "flagged" : null; }),
      el("p", { "class": "note", text: "B = BASE, C = CAND. Flagged rows are highlighted. Click a heading to sort." })], "calls"));

    /* bars: base vs cand per percentile; flagged kinds first, then the busiest */
    var both = calls.filter(function (c) { return c.base && c.cand; });
    if (both.length) {
      var pick = flagged.filter(function (c) { return c.base && c.cand; });
      both.slice().sort(function (x, y) { return (y.base.count + y.cand.count) - (x.base.count + x.cand.count); }).forEach(function (c) {
        if (pick.length < TOP_KINDS && pick.indexOf(c) < 0) pick.push(c);
      });
      var items = pick.map(function (c) {
        var r = c.ratio && c.ratio.p99;
        return { label: callName(c) + "  p99 " + fmtRatio(r), c: c,
                 mark: (c.flags || []).indexOf("p99") >= 0 ? (r > 1 ? "SLOWER" : "FASTER") : null };
      });
      app.appendChild(section("Latency percentiles, BASE vs CAND", [percentileBars("p50, p90 and p99 per call kind, BASE and CAND", items, [
        { name: "BASE p50", color: BASE_COLOR, opacity: 0.35, get: function (it) { return it.c.base.p50_ns; } },
        { name: "BASE p90", color: BASE_COLOR, opacity: 0.65, get: function (it) { return it.c.base.p90_ns; } },
        { name: "BASE p99", color: BASE_COLOR, get: function (it) { return it.c.base.p99_ns; } },
        { name: "CAND p50", color: CAND_COLOR, opacity: 0.35, get: function (it) { return it.c.cand.p50_ns; } },
        { name: "CAND p90", color: CAND_COLOR, opacity: 0.65, get: function (it) { return it.c.cand.p90_ns; } },
        { name: "CAND p99", color: CAND_COLOR, get: function (it) { return it.c.cand.p99_ns; } }
      ], "Flagged kinds first (marked on the left), then the busiest, up to " + TOP_KINDS + "; each label ends with the p99 ratio CAND / BASE.")],
      "percentiles"));

      var withHist = pick.filter(function (c) { return c.base.hist && c.base.hist.length && c.cand.hist && c.cand.hist.length; });
      if (withHist.length) {
        app.appendChild(section("Latency distribution (CDF), BASE vs CAND", [switchable("call kind:", withHist.map(function (c) {
          return ((c.flags || []).length ? "[" + c.flags.join(",") + "] " : "") + callName(c);
        }), function (i) {
          var c = withHist[i];
          return cdfChart(callName(c) + ": cumulative distribution of latency", [
            { name: "BASE " + a.label + " (" + fmtInt(c.base.count) + " requests)", color: BASE_COLOR, hist: c.base.hist },
            { name: "CAND " + b.label + " (" + fmtInt(c.cand.count) + " requests)", color: CAND_COLOR, dash: "7 4", hist: c.cand.hist }
          ]);
        })], "cdf"));
      }
    }

    var df = doc.wal_fsync || [];
    if (df.length) {
      app.appendChild(section("etcd WAL fsync", [sortableTable([
        { name: "flags", get: function (r) { return (r.flags || []).join(" "); } },
        { name: "syscall", get: function (r) { return r.syscall; } },
        { name: "count B", num: true, get: function (r) { return r.base ? r.base.count : null; }, show: function (r) { return r.base ? fmtInt(r.base.count) : "-"; } },
        { name: "count C", num: true, get: function (r) { return r.cand ? r.cand.count : null; }, show: function (r) { return r.cand ? fmtInt(r.cand.count) : "-"; } },
        { name: "p50 B", num: true, get: function (r) { return r.base ? r.base.p50_ns : null; }, show: function (r) { return r.base ? fmtNs(r.base.p50_ns) : "-"; } },
        { name: "p50 C", num: true, get: function (r) { return r.cand ? r.cand.p50_ns : null; }, show: function (r) { return r.cand ? fmtNs(r.cand.p50_ns) : "-"; } },
        { name: "p99 B", num: true, get: function (r) { return r.base ? r.base.p99_ns : null; }, show: function (r) { return r.base ? fmtNs(r.base.p99_ns) : "-"; } },
        { name: "p99 C", num: true, get: function (r) { return r.cand ? r.cand.p99_ns : null; }, show: function (r) { return r.cand ? fmtNs(r.cand.p99_ns) : "-"; } },
        { name: "p99 ratio", num: true, get: function (r) { return r.ratio ? r.ratio.p99 : null; }, show: function (r) { return fmtRatio(r.ratio && r.ratio.p99); } },
        { name: "rate ratio", num: true, get: function (r) { return r.ratio ? r.ratio.rate : null; }, show: function (r) { return fmtRatio(r.ratio && r.ratio.rate); } }
      ], df), el("p", { "class": "note", text: "Percentiles are log-linear bucket bounds (at most 25% high)." })], "fsync"));
    }

    if (a.cpu || b.cpu) {
      renderCpu(a.cpu || { components: [] }, app, "BASE", b.cpu || { components: [] }, "CAND");
    }
    var ser = (doc.serialization || []).filter(function (s) { return s.base_ns_per_request !== null || s.cand_ns_per_request !== null; });
    if (ser.length) {
      var top = ser.slice().sort(function (x, y) {
        return Math.max(y.base_ns_per_request || 0, y.cand_ns_per_request || 0) - Math.max(x.base_ns_per_request || 0, x.cand_ns_per_request || 0);
      }).slice(0, 15);
      app.appendChild(section("Serialization CPU per request, BASE vs CAND", [percentileBars(
        "Serialization CPU per request, top call kinds", top.map(function (s) {
          return { label: callName(s) + "  " + fmtRatio(s.ratio), s: s, mark: (s.flags || []).indexOf("ratio") >= 0 ? "RATIO" : null };
        }), [
          { name: "BASE", color: BASE_COLOR, get: function (it) { return it.s.base_ns_per_request; } },
          { name: "CAND", color: CAND_COLOR, get: function (it) { return it.s.cand_ns_per_request; } }
        ], "Sampled CPU in serialization of requests of the kind, divided by their count; the label ends with the ratio CAND / BASE.",
        "serialization CPU time per request"),
      sortableTable([
        { name: "flags", get: function (s) { return (s.flags || []).join(" "); } },
        { name: "call kind", get: function (s) { return callName(s); } },
        { name: "BASE ns/req", num: true, get: function (s) { return s.base_ns_per_request; }, show: function (s) { return fmtNs(s.base_ns_per_request); } },
        { name: "CAND ns/req", num: true, get: function (s) { return s.cand_ns_per_request; }, show: function (s) { return fmtNs(s.cand_ns_per_request); } },
        { name: "BASE requests", num: true, get: function (s) { return s.base_requests; }, show: function (s) { return fmtInt(s.base_requests); } },
        { name: "CAND requests", num: true, get: function (s) { return s.cand_requests; }, show: function (s) { return fmtInt(s.cand_requests); } },
        { name: "ratio", num: true, get: function (s) { return s.ratio; }, show: function (s) { return fmtRatio(s.ratio); } }
      ], ser)], "serialization"));
    }
  }
  function slo(s) {
    if (!s || s.slo_ok === null || s.slo_ok === undefined) return "-";
    return s.slo_ok ? "ok" : "FAIL";
  }

  /* ---- the four-run trend ------------------------------------------------------------------ */

  function renderTrend(doc, app) {
    var runs = doc.runs || [], calls = doc.calls || [], th = doc.thresholds || {};
    document.getElementById("cp-sub").textContent = "Trend check: " + runs.map(function (r) { return r.role + " " + r.label; }).join(", ");
    var rows = [["", "real before", "real after", "Kubemark before", "Kubemark after"]];
    function rr(name, f) { rows.push([name].concat(runs.map(f))); }
    rr("label, kind", function (r) { return r.label + ", " + r.kind; });
    rr("file", function (r) { return r.db; });
    rr("recorded", function (r) { return fmtDate(r.started_ns); });
    rr("duration", function (r) { return fmtDuration(r.duration_ns); });
    rr("host", function (r) { return r.host || "-"; });
    rr("cluster size", clusterSize);
    rr("requests", function (r) { return fmtInt(r.requests); });
    rr("targets", function (r) { return targetsText(r.targets); });
    app.appendChild(section("Runs compared", [metaTable(rows)], "runs"));
    app.appendChild(section("Summary", [
      el("p", { "class": "summary", text: (doc.summary && doc.summary.text) || "" }),
      el("p", { "class": "note", text: "Change = p99 after / p99 before, on each side. No change: within [" + th.no_change_low + ", " +
        th.no_change_high + "]. The sides agree when both show no change, or both move the same way and the larger change is at most " +
        th.size_factor + "x the smaller; kinds with fewer than " + th.min_count + " requests in a run are low confidence." })
    ], "summary"));
    var sc = trendScatter(doc);
    if (sc) sc.setAttribute("class", "chart square");
    if (sc) app.appendChild(section("Real cluster vs Kubemark", [sc,
      el("p", { "class": "note", text: "One point per call kind present in all four runs. Points near the dotted diagonal moved alike on both sides; the shaded box is no change on either side." })],
      "scatter"));
    var vcls = { agree: "good", disagree: "bad", low_confidence: "info", missing: "warn" };
    app.appendChild(section("Call kinds", [sortableTable([
      { name: "verdict", get: function (c) { return c.verdict; }, show: function (c) { return badge(c.verdict, vcls[c.verdict] || "info"); } },
      { name: "component", get: function (c) { return c.component; } },
      { name: "verb", get: function (c) { return c.verb; } },
      { name: "resource / path", get: function (c) { return c.path !== null ? c.path : c.resource + (c.subresource ? "/" + c.subresource : ""); } },
      { name: "scope", get: function (c) { return c.scope; } },
      { name: "counts (RB RA KB KA)", get: function (c) { return Math.min.apply(null, (c.counts || []).map(function (v) { return v === null ? -1 : v; })); },
        show: function (c) { return (c.counts || []).map(fmtInt).join(" / "); } },
      { name: "p99 real before", num: true, get: function (c) { return c.p99_ns[0]; }, show: function (c) { return fmtNs(c.p99_ns[0]); } },
      { name: "p99 real after", num: true, get: function (c) { return c.p99_ns[1]; }, show: function (c) { return fmtNs(c.p99_ns[1]); } },
      { name: "real change", num: true, get: function (c) { return c.real_change; }, show: function (c) { return fmtRatio(c.real_change) + " " + arrow(c.real_direction); } },
      { name: "p99 km before", num: true, get: function (c) { return c.p99_ns[2]; }, show: function (c) { return fmtNs(c.p99_ns[2]); } },
      { name: "p99 km after", num: true, get: function (c) { return c.p99_ns[3]; }, show: function (c) { return fmtNs(c.p99_ns[3]); } },
      { name: "km change", num: true, get: function (c) { return c.km_change; }, show: function (c) { return fmtRatio(c.km_change) + " " + arrow(c.km_direction); } }
    ], calls, function (c) { return c.verdict === "disagree" ? "flagged" : null; })], "calls"));
  }
  function arrow(d) { return d === "up" ? "\u2191 up" : d === "down" ? "\u2193 down" : d === "none" ? "= none" : ""; }

  /* ---- main --------------------------------------------------------------------------------- */

  function main() {
    var app = document.getElementById("cp-app");
    var ph = document.getElementById("cp-placeholder");
    if (ph) ph.parentNode.removeChild(ph);
    var doc;
    try {
      doc = JSON.parse(document.getElementById("cpprof-data").textContent);
    } catch (e) {
      fail("the embedded data is not JSON: " + e.message);
      return;
    }
    var kind = document.body.getAttribute("data-kind");
    if (doc.mode === "trend") kind = "trend";
    else if (doc.mode === "pair") kind = "diff";
    if (kind === "trend") renderTrend(doc, app);
    else if (kind === "diff") renderDiff(doc, app);
    else renderReport(doc, app);
    /* sections exist only now: honour a #section in the address */
    if (location.hash.length > 1) {
      var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
      if (target) target.scrollIntoView();
    }
    if (document.body.getAttribute("data-rendered") !== "error") document.body.setAttribute("data-rendered", "ok");
  }
  try {
    main();
  } catch (e) {
    fail((e && e.message ? e.message : String(e)) + (e && e.stack ? "\n" + e.stack : ""));
  }
})();
