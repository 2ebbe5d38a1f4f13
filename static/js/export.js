/*
 * netpol-viz diagram page, export: the current view as PNG or SVG, each a
 * sheet with a header (title from the upload's file names, the analysis id
 * and date, what the drawing leaves out), the diagram, the legend and a
 * footer (the share link of this view, the date of the export).
 *
 * One layout (`sheet`, in CSS pixels, text measured on a canvas) and two
 * painters: PNG draws the sheet on a canvas around the vis canvas itself;
 * SVG rebuilds the diagram from vis-network's positions, shapes and edge
 * curves, so it is vector and opens in a browser and in an editor. Every
 * string goes in with fillText or textContent (XMLSerializer escapes it)
 * after NV.shown, so an uploaded name stays text. Uses core, draw
 * (NV.network, NV.nodes, NV.edges) and the page's legend and status line at
 * run time. Provides NV.exportSheet, NV.pngOfView, NV.svgOfView.
 */
(function () {
  "use strict";
  var NV = window.NetpolViz;
  if (!NV) return;
  var shown = NV.shown, plural = NV.plural;

  var SVG_NS = "http://www.w3.org/2000/svg";
  var FACE = "sans-serif";
  var PAD = 16;
  var INK = "#111111", MUTED = "#555555";
  /** The legend names at most this many namespaces, then "+N more". */
  var LEGEND_NAMESPACES = 60;
  var measurer = document.createElement("canvas").getContext("2d");

  function font(size, weight) {
    return (weight || "normal") + " " + size + "px " + FACE;
  }

  /** The size in pixels of a CSS font shorthand ("bold 14px sans-serif" is 14). */
  function fontSize(shorthand) {
    var found = /(\d+(?:\.\d+)?)px/.exec(shorthand);
    return found ? Number(found[1]) : 10;
  }

  function textWidth(text, size, weight) {
    measurer.font = font(size, weight);
    return measurer.measureText(text).width;
  }

  /** Lines of at most `width` pixels: broken at spaces, and inside a word too long for a line. */
  function wrap(text, size, weight, width) {
    var lines = [];
    var line = "";
    text.split(" ").forEach(function (word) {
      var candidate = line ? line + " " + word : word;
      if (textWidth(candidate, size, weight) <= width) {
        line = candidate;
        return;
      }
      if (line) lines.push(line);
      line = "";
      while (textWidth(word, size, weight) > width && word.length > 1) {
        var cut = word.length - 1;
        while (cut > 1 && textWidth(word.slice(0, cut), size, weight) > width) cut -= 1;
        lines.push(word.slice(0, cut));
        word = word.slice(cut);
      }
      line = word;
    });
    if (line) lines.push(line);
    return lines;
  }

  // --- what the sheet says -----------------------------------------------------------

  /** The uploaded files, in the order the analysis first names them. */
  function uploadedFiles() {
    var files = [];
    NV.view.policies.forEach(function (p) { if (p.file) files.push(p.file); });
    NV.details.forEach(function (d) { if (d.source && d.source.file) files.push(d.source.file); });
    return Array.from(new Set(files));
  }

  function shareLink() {
    var input = NV.byId("share-url");
    return input ? new URL(input.value, window.location.href).href : null;
  }

  function caption() {
    var meta = NV.byId("analysis-meta");
    var data = meta ? meta.dataset : {};
    var files = uploadedFiles();
    var named = files.slice(0, 3).join(", ") + (files.length > 3 ? " and " + (files.length - 3) + " more files" : "");
    var about = [];
    if (data.analysisId) about.push("analysis " + data.analysisId);
    if (data.createdAt) about.push("analysed " + data.createdAt.replace("T", " ").replace(/\+00:00$/, " UTC"));
    if (data.version) about.push("netpol-viz " + data.version);
    if (!data.analysisId) about.push("offline copy");
    var link = shareLink();
    var status = NV.byId("status-line");
    return {
      title: shown((data.title || "Allowed flows") + (named ? ": " + named : "")),
      about: shown(about.join(" · ")),
      status: status ? shown(status.textContent.trim()) : "",
      link: link ? "Share link: " + shown(link) : "No share link: this is an offline copy.",
      date: "Exported " + new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
    };
  }

  // --- the layout: primitives in CSS pixels -------------------------------------------

  function cssBox(node) {
    var style = getComputedStyle(node);
    var dash = function (side) { return style["border" + side + "Style"] === "dashed"; };
    return {
      width: Math.min(Math.max(node.offsetWidth, 10), 160),
      height: Math.max(node.offsetHeight, 2),
      fill: style.backgroundColor,
      lineOnly: style.borderTopStyle !== "none" && style.borderLeftStyle === "none",
      stroke: style.borderTopColor,
      strokeWidth: parseFloat(style.borderTopWidth) || 0,
      dashed: dash("Top"),
      round: style.borderTopLeftRadius === "50%",
      radius: parseFloat(style.borderTopLeftRadius) || 0,
      text: node.textContent.trim(),
    };
  }

  /** What the page's legend says beside each symbol (the symbol's own text left out). */
  function symbolEntries() {
    return Array.prototype.map.call(document.querySelectorAll(".legend-symbols li"), function (item) {
      var symbol = item.querySelector(".sym");
      var text = Array.prototype.filter.call(item.childNodes, function (n) { return n !== symbol; })
        .map(function (n) { return n.textContent; }).join("").trim();
      return { symbol: symbol ? cssBox(symbol) : null, text: shown(text) };
    });
  }

  function namespaceEntries() {
    var entries = NV.clusters.slice(0, LEGEND_NAMESPACES).map(function (cluster) {
      var counts = cluster.workloads ? plural(cluster.workloads, "workload") : plural(cluster.members.length, "node");
      return {
        symbol: { width: 14, height: 14, fill: cluster.color, stroke: cluster.border, strokeWidth: 1.5, radius: 3 },
        text: shown(cluster.title) + " (" + counts + ")",
      };
    });
    if (NV.clusters.length > LEGEND_NAMESPACES) {
      entries.push({ symbol: null, text: "+" + (NV.clusters.length - LEGEND_NAMESPACES) + " more namespaces" });
    }
    return entries;
  }

  /** The sheet: its size, the diagram's place, and the rest as text, rect and line primitives. */
  function exportSheet() {
    var width = NV.container.clientWidth, diagramHeight = NV.container.clientHeight;
    var inner = width - 2 * PAD;
    var items = [];
    var y = PAD;
    function lines(text, size, weight, color) {
      wrap(text, size, weight, inner).forEach(function (line) {
        y += size * 1.25;
        items.push({ type: "text", x: PAD, y: y - size * 0.25, text: line, size: size, weight: weight, color: color });
      });
    }
    var words = caption();
    lines(words.title, 18, "bold", INK);
    lines(words.about, 12, "normal", MUTED);
    if (words.status) lines(words.status, 12, "normal", MUTED);
    y += PAD / 2;
    y = Math.ceil(y); // whole pixels: the PNG copies the vis canvas without resampling
    var diagram = { x: 0, y: y, width: width, height: diagramHeight };
    y += diagramHeight + PAD / 2;

    // The legend: entries flow in rows, a swatch and its text.
    var size = 12, row = 20;
    [namespaceEntries(), symbolEntries()].forEach(function (entries) {
      if (!entries.length) return;
      var x = PAD;
      y += row;
      entries.forEach(function (entry) {
        var symbol = entry.symbol;
        var needed = (symbol ? symbol.width + 6 : 0) + Math.min(textWidth(entry.text, size), inner - 40) + 18;
        if (x > PAD && x + needed > width - PAD) {
          x = PAD;
          y += row;
        }
        if (symbol) {
          items.push(Object.assign({ type: "symbol", x: x, y: y - 4 - Math.min(symbol.height, 14) / 2 }, symbol));
          x += symbol.width + 6;
        }
        var text = entry.text;
        while (text.length > 1 && textWidth(text, size) > inner - 40) text = text.slice(0, -2) + "…";
        items.push({ type: "text", x: x, y: y, text: text, size: size, weight: "normal", color: INK });
        x += textWidth(text, size) + 18;
      });
    });
    y += PAD / 2;
    lines(words.link, 12, "normal", INK);
    lines(words.date, 12, "normal", MUTED);
    y += PAD;
    return { width: width, height: Math.ceil(y), diagram: diagram, items: items, title: words.title };
  }

  // --- PNG: the sheet on a canvas, the vis canvas in its place --------------------------

  function paintSymbol(ctx, s) {
    var h = Math.min(s.height, 14);
    ctx.save();
    ctx.setLineDash(s.dashed ? [4, 3] : []);
    ctx.lineWidth = s.strokeWidth || 1;
    ctx.strokeStyle = s.stroke;
    if (s.lineOnly) {
      ctx.beginPath();
      ctx.moveTo(s.x, s.y + h / 2);
      ctx.lineTo(s.x + s.width, s.y + h / 2);
      ctx.stroke();
    } else {
      ctx.beginPath();
      if (s.round) {
        ctx.ellipse(s.x + s.width / 2, s.y + h / 2, s.width / 2, h / 2, 0, 0, 2 * Math.PI);
      } else {
        ctx.roundRect(s.x, s.y, s.width, h, s.radius || 0);
      }
      ctx.fillStyle = s.fill;
      ctx.fill();
      if (s.strokeWidth) ctx.stroke();
      if (s.text) {
        ctx.fillStyle = INK;
        ctx.font = font(10);
        ctx.textBaseline = "middle";
        ctx.fillText(s.text, s.x + 4, s.y + h / 2, s.width - 8);
      }
    }
    ctx.restore();
  }

  /** The current view as a PNG Blob (callback), at the vis canvas's own resolution. */
  function pngOfView(callback) {
    var source = NV.container.querySelector("canvas");
    if (!source) return;
    var sheet = exportSheet();
    var ratio = source.width / Math.max(1, sheet.diagram.width);
    var out = document.createElement("canvas");
    out.width = Math.round(sheet.width * ratio);
    out.height = Math.round(sheet.height * ratio);
    var ctx = out.getContext("2d");
    ctx.scale(ratio, ratio);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, sheet.width, sheet.height);
    var d = sheet.diagram;
    ctx.drawImage(source, d.x, d.y, d.width, d.height);
    ctx.strokeStyle = "#cccccc";
    ctx.strokeRect(d.x + 0.5, d.y + 0.5, d.width - 1, d.height - 1);
    sheet.items.forEach(function (item) {
      if (item.type === "symbol") {
        paintSymbol(ctx, item);
        return;
      }
      ctx.fillStyle = item.color;
      ctx.font = font(item.size, item.weight);
      ctx.textBaseline = "alphabetic";
      ctx.fillText(item.text, item.x, item.y);
    });
    out.toBlob(callback, "image/png");
  }

  // --- SVG: the same sheet, the diagram rebuilt from vis-network's state -----------------

  function svg(tag, attributes, parent) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attributes || {}).forEach(function (key) {
      var value = attributes[key];
      if (value !== null && value !== undefined) node.setAttribute(key, String(value));
    });
    if (parent) parent.appendChild(node);
    return node;
  }

  function svgText(parent, x, y, text, size, weight, color, anchor) {
    var node = svg("text", {
      x: round(x), y: round(y), "font-family": FACE, "font-size": size,
      "font-weight": weight && weight !== "normal" ? weight : null, fill: color, "text-anchor": anchor || null,
    }, parent);
    node.textContent = text;
    return node;
  }

  function round(value) {
    return Math.round(value * 10) / 10;
  }

  function svgSymbol(parent, s) {
    var h = Math.min(s.height, 14);
    var stroke = { stroke: s.stroke, "stroke-width": s.strokeWidth || null, "stroke-dasharray": s.dashed ? "4 3" : null };
    if (s.lineOnly) {
      svg("line", Object.assign({ x1: round(s.x), y1: round(s.y + h / 2), x2: round(s.x + s.width), y2: round(s.y + h / 2) }, stroke), parent);
      return;
    }
    var shape = s.round
      ? svg("ellipse", { cx: round(s.x + s.width / 2), cy: round(s.y + h / 2), rx: round(s.width / 2), ry: round(h / 2) }, parent)
      : svg("rect", { x: round(s.x), y: round(s.y), width: round(s.width), height: round(h), rx: s.radius || null }, parent);
    shape.setAttribute("fill", s.fill);
    if (s.strokeWidth) Object.keys(stroke).forEach(function (k) { if (stroke[k] !== null) shape.setAttribute(k, stroke[k]); });
    if (s.text) svgText(parent, s.x + 4, s.y + h / 2 + 3.5, shown(s.text), 10, "normal", INK);
  }

  function colorOf(color, fallback) {
    if (typeof color === "string") return color;
    return (color && color.color) || fallback;
  }

  /** Whether canvas point p is inside the drawn shape of vis node `node`. */
  function inside(node, p) {
    var w = node.shape.width / 2 + 1, h = node.shape.height / 2 + 1;
    var dx = p.x - node.x, dy = p.y - node.y;
    if (node.options.shape === "ellipse" || node.options.shape === "circle") {
      return (dx * dx) / (w * w) + (dy * dy) / (h * h) <= 1;
    }
    return Math.abs(dx) <= w && Math.abs(dy) <= h;
  }

  /** The curve of vis edge `edge` outside both of its nodes, as points (canvas coordinates). */
  function edgePoints(edge) {
    var steps = 48;
    var points = [];
    for (var i = 0; i <= steps; i++) {
      var p = edge.edgeType.getPoint(i / steps);
      if (!inside(edge.from, p) && !inside(edge.to, p)) points.push({ x: p.x, y: p.y, t: i / steps });
    }
    if (points.length < 2 || edge.from === edge.to) return points;
    // Where the curve meets the target's border, to a fraction of a pixel: the arrow's tip.
    var lo = points[points.length - 1].t, hi = Math.min(1, lo + 1 / steps);
    for (var k = 0; k < 12; k++) {
      var mid = (lo + hi) / 2;
      if (inside(edge.to, edge.edgeType.getPoint(mid))) hi = mid; else lo = mid;
    }
    var tip = edge.edgeType.getPoint(lo);
    points.push({ x: tip.x, y: tip.y, t: lo });
    return points;
  }

  function svgEdge(parent, edge, labels) {
    var o = edge.options;
    var points = edgePoints(edge);
    if (points.length < 2) return;
    var color = colorOf(o.color, "#848484");
    var opacity = o.color && typeof o.color.opacity === "number" ? o.color.opacity : null;
    var width = o.width || 1;
    var group = svg("g", { class: "edge", opacity: opacity !== null && opacity < 1 ? opacity : null }, parent);
    if (o.title) svg("title", {}, group).textContent = shown(typeof o.title === "string" ? o.title : o.title.textContent);
    svg("polyline", {
      points: points.map(function (p) { return round(p.x) + "," + round(p.y); }).join(" "),
      fill: "none", stroke: color, "stroke-width": width,
      "stroke-dasharray": Array.isArray(o.dashes) ? o.dashes.join(" ") : o.dashes ? "5 5" : null,
    }, group);
    if (o.arrows && o.arrows.to && o.arrows.to.enabled) {
      var tip = points[points.length - 1], back = points[Math.max(0, points.length - 3)];
      var angle = Math.atan2(tip.y - back.y, tip.x - back.x);
      var length = 15 * (o.arrows.to.scaleFactor || 1) + width;
      var corner = function (turn) {
        return round(tip.x - length * Math.cos(angle + turn)) + "," + round(tip.y - length * Math.sin(angle + turn));
      };
      svg("polygon", { points: [round(tip.x) + "," + round(tip.y), corner(0.4), corner(-0.4)].join(" "), fill: color }, group);
    }
    var fontSize = (o.font && o.font.size) || 11;
    var threshold = (o.scaling && o.scaling.label && o.scaling.label.drawThreshold) || 5;
    if (o.label && fontSize * NV.network.getScale() >= threshold) {
      var middle = edge.edgeType.getPoint(0.5);
      String(o.label).split("\n").forEach(function (line, i, all) {
        var text = svgText(labels, middle.x, middle.y + (i - (all.length - 1) / 2) * fontSize * 1.2 + fontSize * 0.35,
          shown(line), fontSize, "normal", (o.font && o.font.color) || "#343434", "middle");
        text.setAttribute("stroke", "#ffffff");
        text.setAttribute("stroke-width", String((o.font && o.font.strokeWidth) || 3));
        text.setAttribute("paint-order", "stroke");
        if (opacity !== null && opacity < 1) text.setAttribute("opacity", String(opacity));
      });
    }
  }

  function svgNode(parent, node) {
    var o = node.options;
    var w = node.shape.width, h = node.shape.height;
    var group = svg("g", { class: "node", opacity: typeof o.opacity === "number" && o.opacity < 1 ? o.opacity : null }, parent);
    if (o.title) svg("title", {}, group).textContent = shown(typeof o.title === "string" ? o.title : o.title.textContent);
    var color = o.color || {};
    var dashes = o.shapeProperties && o.shapeProperties.borderDashes;
    var outline = {
      fill: color.background || "#ffffff", stroke: color.border || "#2b7ce9", "stroke-width": o.borderWidth || 1,
      "stroke-dasharray": Array.isArray(dashes) ? dashes.join(" ") : null,
    };
    if (o.shape === "ellipse" || o.shape === "circle") {
      svg("ellipse", Object.assign({ cx: round(node.x), cy: round(node.y), rx: round(w / 2), ry: round(h / 2) }, outline), group);
    } else {
      svg("rect", Object.assign({
        x: round(node.x - w / 2), y: round(node.y - h / 2), width: round(w), height: round(h),
        rx: (o.shapeProperties && o.shapeProperties.borderRadius) || null,
      }, outline), group);
    }
    if (o.label === undefined || o.label === null) return;
    var size = (o.font && o.font.size) || 14;
    var lines = String(o.label).split("\n");
    lines.forEach(function (line, i) {
      svgText(group, node.x, node.y + (i - (lines.length - 1) / 2) * size * 1.2 + size * 0.35,
        shown(line), size, "normal", (o.font && o.font.color) || INK, "middle");
    });
  }

  /**
   * A stand-in for the 2D context that the page's own "beforeDrawing" handlers (the
   * namespace boxes behind the nodes, draw.js) draw on: it turns their paths and text
   * into SVG in `parent`, in canvas coordinates like the rest of the scene. What they
   * draw with a transform of their own (the white background in screen pixels) is left
   * out: the sheet has its own.
   */
  function recorder(parent) {
    var state = { fillStyle: "#000000", strokeStyle: "#000000", lineWidth: 1, globalAlpha: 1,
      font: font(10), textBaseline: "alphabetic", textAlign: "start", dash: [], screen: false };
    var saved = [];
    var path = [];
    var at = { x: 0, y: 0 }, start = { x: 0, y: 0 };
    function move(x, y) { at = { x: x, y: y }; }
    function paint(attributes) {
      if (state.screen || !path.length) return;
      svg("path", Object.assign({ d: path.join(" "), opacity: state.globalAlpha < 1 ? state.globalAlpha : null }, attributes), parent);
    }
    var ctx = {
      canvas: { width: 0, height: 0 },
      save: function () { saved.push(Object.assign({}, state, { dash: state.dash.slice() })); },
      restore: function () { if (saved.length) state = saved.pop(); },
      setTransform: function () { state.screen = true; },
      resetTransform: function () { state.screen = true; },
      translate: function () { state.screen = true; },
      scale: function () { state.screen = true; },
      rotate: function () { state.screen = true; },
      setLineDash: function (dash) { state.dash = (dash || []).slice(); },
      getLineDash: function () { return state.dash.slice(); },
      measureText: function (text) { measurer.font = state.font; return measurer.measureText(text); },
      beginPath: function () { path = []; },
      closePath: function () { if (path.length) { path.push("Z"); move(start.x, start.y); } },
      moveTo: function (x, y) { path.push("M" + round(x) + " " + round(y)); move(x, y); start = { x: x, y: y }; },
      lineTo: function (x, y) { path.push("L" + round(x) + " " + round(y)); move(x, y); },
      quadraticCurveTo: function (cx, cy, x, y) {
        path.push("Q" + [cx, cy, x, y].map(round).join(" "));
        move(x, y);
      },
      bezierCurveTo: function (c1x, c1y, c2x, c2y, x, y) {
        path.push("C" + [c1x, c1y, c2x, c2y, x, y].map(round).join(" "));
        move(x, y);
      },
      rect: function (x, y, w, h) {
        path.push("M" + round(x) + " " + round(y) + "h" + round(w) + "v" + round(h) + "h" + round(-w) + "Z");
        move(x, y);
        start = { x: x, y: y };
      },
      roundRect: function (x, y, w, h, r) {
        var radius = Math.min(Number(Array.isArray(r) ? r[0] : r) || 0, w / 2, h / 2);
        ctx.moveTo(x + radius, y);
        ctx.arcTo(x + w, y, x + w, y + h, radius);
        ctx.arcTo(x + w, y + h, x, y + h, radius);
        ctx.arcTo(x, y + h, x, y, radius);
        ctx.arcTo(x, y, x + w, y, radius);
        ctx.closePath();
      },
      // The arc from the current point towards (x1, y1) turning to (x2, y2), radius r: as
      // the canvas defines it, a line to the first tangent point and an arc to the second.
      arcTo: function (x1, y1, x2, y2, r) {
        var ax = at.x - x1, ay = at.y - y1, bx = x2 - x1, by = y2 - y1;
        var la = Math.hypot(ax, ay), lb = Math.hypot(bx, by);
        var cross = ax * by - ay * bx;
        if (!path.length) ctx.moveTo(x1, y1);
        if (!r || !la || !lb || Math.abs(cross) < 1e-9) {
          ctx.lineTo(x1, y1);
          return;
        }
        var angle = Math.acos(Math.max(-1, Math.min(1, (ax * bx + ay * by) / (la * lb))));
        var d = r / Math.tan(angle / 2);
        var t1 = { x: x1 + (ax / la) * d, y: y1 + (ay / la) * d };
        var t2 = { x: x1 + (bx / lb) * d, y: y1 + (by / lb) * d };
        ctx.lineTo(t1.x, t1.y);
        path.push("A" + [r, r].map(round).join(" ") + " 0 0 " + (cross < 0 ? 1 : 0) + " " + round(t2.x) + " " + round(t2.y));
        move(t2.x, t2.y);
      },
      arc: function (x, y, r, from, to, counter) {
        var sx = x + r * Math.cos(from), sy = y + r * Math.sin(from);
        path.push((path.length ? "L" : "M") + round(sx) + " " + round(sy));
        var sweep = counter ? from - to : to - from;
        if (sweep >= 2 * Math.PI - 1e-9) {
          var mx = x - r * Math.cos(from), my = y - r * Math.sin(from);
          path.push("A" + round(r) + " " + round(r) + " 0 1 " + (counter ? 0 : 1) + " " + round(mx) + " " + round(my));
        }
        var ex = x + r * Math.cos(to), ey = y + r * Math.sin(to);
        var large = ((sweep % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI) > Math.PI ? 1 : 0;
        path.push("A" + round(r) + " " + round(r) + " 0 " + large + " " + (counter ? 0 : 1) + " " + round(ex) + " " + round(ey));
        move(ex, ey);
      },
      ellipse: function (x, y, rx, ry) {
        path.push("M" + round(x - rx) + " " + round(y) + "a" + round(rx) + " " + round(ry) + " 0 1 0 " + round(2 * rx) +
          " 0a" + round(rx) + " " + round(ry) + " 0 1 0 " + round(-2 * rx) + " 0Z");
      },
      fill: function () { paint({ fill: state.fillStyle }); },
      stroke: function () {
        paint({ fill: "none", stroke: state.strokeStyle, "stroke-width": state.lineWidth,
          "stroke-dasharray": state.dash.length ? state.dash.join(" ") : null });
      },
      fillRect: function (x, y, w, h) { ctx.beginPath(); ctx.rect(x, y, w, h); ctx.fill(); path = []; },
      strokeRect: function (x, y, w, h) { ctx.beginPath(); ctx.rect(x, y, w, h); ctx.stroke(); path = []; },
      clearRect: function () {},
      fillText: function (text, x, y, maxWidth) {
        if (state.screen) return;
        var node = svg("text", {
          x: round(x), y: round(y), fill: state.fillStyle,
          "font-family": FACE, "font-size": fontSize(state.font), "font-weight": /bold|[6-9]00/.test(state.font) ? "bold" : null,
          opacity: state.globalAlpha < 1 ? state.globalAlpha : null,
          "dominant-baseline": { top: "text-before-edge", hanging: "hanging", middle: "central", bottom: "text-after-edge" }[state.textBaseline] || null,
          "text-anchor": { center: "middle", right: "end", end: "end" }[state.textAlign] || null,
        }, parent);
        node.textContent = String(text);
        var width = ctx.measureText(String(text)).width;
        if (maxWidth !== undefined && width > maxWidth) {
          // The canvas squeezes such text to fit; so does this.
          node.setAttribute("textLength", String(round(maxWidth)));
          node.setAttribute("lengthAdjust", "spacingAndGlyphs");
        }
      },
      strokeText: function () {},
    };
    ["fillStyle", "strokeStyle", "lineWidth", "globalAlpha", "font", "textBaseline", "textAlign"].forEach(function (key) {
      Object.defineProperty(ctx, key, {
        get: function () { return state[key]; },
        set: function (value) { state[key] = value; },
      });
    });
    ["lineCap", "lineJoin", "shadowColor", "shadowBlur", "globalCompositeOperation", "miterLimit"].forEach(function (key) {
      ctx[key] = null;
    });
    return ctx;
  }

  /** The current view as SVG text: the sheet, and the diagram as vector shapes in its place. */
  function svgOfView() {
    var sheet = exportSheet();
    var network = NV.network;
    var root = svg("svg", {
      xmlns: SVG_NS, width: sheet.width, height: sheet.height,
      viewBox: "0 0 " + sheet.width + " " + sheet.height,
    });
    svg("title", {}, root).textContent = sheet.title;
    svg("rect", { x: 0, y: 0, width: sheet.width, height: sheet.height, fill: "#ffffff" }, root);
    var d = sheet.diagram;
    // The diagram in canvas coordinates, its viewBox what the canvas shows now (so it clips as the PNG does).
    var from = network.DOMtoCanvas({ x: 0, y: 0 });
    var to = network.DOMtoCanvas({ x: d.width, y: d.height });
    var scene = svg("svg", {
      x: d.x, y: d.y, width: d.width, height: d.height,
      viewBox: [from.x, from.y, to.x - from.x, to.y - from.y].map(round).join(" "),
      class: "diagram",
    }, root);
    // What the page draws behind the nodes (namespace boxes), through the same handlers.
    var backdrop = svg("g", { class: "backdrop" }, scene);
    network.body.emitter.emit("beforeDrawing", recorder(backdrop));
    var edgeLayer = svg("g", { class: "edges" }, scene);
    var nodeLayer = svg("g", { class: "nodes" }, scene);
    var labelLayer = svg("g", { class: "edge-labels" }, scene);
    var body = network.body;
    NV.edges.getIds().forEach(function (id) {
      var edge = body.edges[id];
      if (edge && !edge.options.hidden && edge.from && edge.to && !edge.from.options.hidden && !edge.to.options.hidden) {
        svgEdge(edgeLayer, edge, labelLayer);
      }
    });
    NV.nodes.getIds().forEach(function (id) {
      var node = body.nodes[id];
      if (node && !node.options.hidden) svgNode(nodeLayer, node);
    });
    svg("rect", { x: d.x + 0.5, y: d.y + 0.5, width: d.width - 1, height: d.height - 1, fill: "none", stroke: "#cccccc" }, root);
    sheet.items.forEach(function (item) {
      if (item.type === "symbol") svgSymbol(root, item);
      else svgText(root, item.x, item.y, item.text, item.size, item.weight, item.color);
    });
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(root) + "\n";
  }

  function download(blob, name) {
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
  }

  NV.bind("download-png", "click", function () {
    pngOfView(function (blob) { download(blob, "netpol-viz.png"); });
  });
  NV.bind("download-svg", "click", function () {
    download(new Blob([svgOfView()], { type: "image/svg+xml" }), "netpol-viz.svg");
  });

  Object.assign(NV, { exportSheet: exportSheet, pngOfView: pngOfView, svgOfView: svgOfView });
})();
