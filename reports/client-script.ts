// The report page's script, embedded verbatim in report.html. It reads the JSON data block and
// builds the page. Every string that comes from a history or a checker is inserted with
// textContent, createTextNode or canvas fillText, never parsed as HTML.
//
// The source is plain browser JavaScript in a string, because the project compiles without DOM
// types. It must contain no backtick and no dollar-brace pair, so String.raw keeps it verbatim.

export const REPORT_CLIENT_SCRIPT = String.raw`
'use strict';
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var TYPE_NAMES = ['ok', 'fail', 'info', 'pending'];
  var TYPE_COLORS = ['#3b9a5a', '#d64541', '#e8a13a', '#9aa0a6'];
  // Drawing priority when several ops share a pixel: info, then fail, then pending, then ok.
  var TYPE_PRIORITY = [1, 3, 4, 2];
  var FAULT_COLORS = { kill: 'rgba(214,69,65,0.13)', pause: 'rgba(232,161,58,0.16)', partition: 'rgba(106,90,205,0.13)', stop: 'rgba(120,120,120,0.15)' };
  var GUTTER_LEFT_PX = 90;
  var GUTTER_RIGHT_PX = 12;

  function el(tag, className) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === undefined || child === null) continue;
      node.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
    }
    return node;
  }

  function formatNs(ns) {
    if (ns < 0) return '-';
    if (ns < 1e3) return ns.toFixed(0) + ' ns';
    if (ns < 1e6) return (ns / 1e3).toFixed(ns < 1e4 ? 1 : 0) + ' µs';
    if (ns < 1e9) return (ns / 1e6).toFixed(ns < 1e7 ? 1 : 0) + ' ms';
    return (ns / 1e9).toFixed(ns < 1e10 ? 2 : 1) + ' s';
  }

  function verdictName(valid) {
    if (valid === true) return 'valid';
    if (valid === false) return 'invalid';
    return 'unknown';
  }

  function table(headers, rows, className) {
    var head = el('tr', null);
    headers.forEach(function (header) { head.appendChild(el('th', null, header)); });
    var body = el('tbody', null);
    rows.forEach(function (row) {
      var tr = el('tr', null);
      row.forEach(function (cell) { tr.appendChild(el('td', null, cell)); });
      body.appendChild(tr);
    });
    return el('table', className || 'grid', el('thead', null, head), body);
  }

  // A JSON value as nested lists; strings stay text.
  function jsonTree(value, depth) {
    if (value === null || typeof value !== 'object') return el('code', 'json-leaf', JSON.stringify(value));
    var entries = Array.isArray(value) ? value.map(function (item, i) { return [String(i), item]; }) : Object.keys(value).map(function (key) { return [key, value[key]]; });
    if (entries.length === 0) return el('code', 'json-leaf', Array.isArray(value) ? '[]' : '{}');
    var simple = entries.every(function (entry) { return entry[1] === null || typeof entry[1] !== 'object'; });
    if (simple && Array.isArray(value)) return el('code', 'json-leaf', JSON.stringify(value));
    var list = el('ul', 'json-tree');
    entries.forEach(function (entry) {
      list.appendChild(el('li', null, el('span', 'json-key', entry[0] + ': '), jsonTree(entry[1], depth + 1)));
    });
    return list;
  }

  // ---- banner and run details ----

  function renderBanner() {
    var verdict = verdictName(data.verdict);
    var banner = document.getElementById('banner');
    banner.className = 'banner verdict-' + verdict;
    banner.appendChild(el('div', 'verdict-word', verdict.toUpperCase()));
    banner.appendChild(el('div', 'verdict-text', data.verdictText));
    var run = data.run;
    var facts = 'workload ' + run.workload + ' · seed ' + run.seed + ' · ' + data.counts.opCount + ' ops · ' +
      formatNs(run.durationNs) + ' · started ' + run.startedAt + (run.endedAt ? '' : ' · did not finish');
    banner.appendChild(el('div', 'verdict-facts', facts));
    var options = Object.keys(run.options).sort().map(function (key) { return key + '=' + JSON.stringify(run.options[key]); });
    if (options.length > 0) banner.appendChild(el('div', 'verdict-facts', 'options: ' + options.join(' ')));
    var copy = el('button', 'copy', 'copy');
    copy.addEventListener('click', function () {
      if (navigator.clipboard) navigator.clipboard.writeText(run.command).catch(function () {});
    });
    banner.appendChild(el('div', 'replay', el('span', 'label', 'replay: '), el('code', null, run.command), copy));
    document.title = 'traft ' + run.workload + ' seed ' + run.seed + ': ' + verdict;
  }

  function renderProblems() {
    if (data.problems.length === 0) return;
    var section = document.getElementById('problems');
    section.appendChild(el('h2', null, 'History problems'));
    var list = el('ul', null);
    data.problems.forEach(function (problem) { list.appendChild(el('li', null, problem)); });
    section.appendChild(list);
  }

  function renderRunDetails() {
    var run = data.run;
    var section = document.getElementById('run');
    section.appendChild(el('h2', null, 'Run'));
    var facts = [['workload', run.workload], ['seed', String(run.seed)], ['started', run.startedAt], ['ended', run.endedAt || 'did not finish'],
      ['history span', formatNs(run.durationNs)], ['run folder', run.runDir || '']];
    section.appendChild(table(['field', 'value'], facts, 'grid narrow'));
    var options = Object.keys(run.options).sort().map(function (key) { return [key, JSON.stringify(run.options[key])]; });
    section.appendChild(el('h3', null, 'Options'));
    section.appendChild(table(['option', 'value'], options, 'grid narrow'));
    section.appendChild(el('h3', null, 'Nodes'));
    section.appendChild(table(['id', 'listen', 'data dir', 'log'], run.nodes.map(function (node) {
      return [String(node.id), node.listen, node.dataDir, node.logPath];
    })));
    section.appendChild(el('h3', null, 'Versions'));
    section.appendChild(table(['component', 'version'], Object.keys(run.versions).sort().map(function (key) { return [key, run.versions[key]]; }), 'grid narrow'));
  }

  function renderCounts() {
    var counts = data.counts;
    var section = document.getElementById('counts');
    section.appendChild(el('h2', null, 'Operations'));
    section.appendChild(el('p', null, counts.opCount + ' ops: ' + counts.clientOpCount + ' from ' + counts.processCount +
      ' client processes, ' + counts.nemesisOpCount + ' from the nemesis. By type: ' +
      ['invoke', 'ok', 'fail', 'info'].map(function (type) { return counts.byType[type] + ' ' + type; }).join(', ') + '.'));
    section.appendChild(table(['source', 'f', 'invoked', 'ok', 'fail', 'info', 'never completed'], counts.byF.map(function (row) {
      return [row.client ? 'client' : 'nemesis', row.f, String(row.invoke), String(row.ok), String(row.fail), String(row.info), String(row.pending)];
    })));
  }

  // ---- checker results ----

  function renderResults() {
    var section = document.getElementById('results');
    section.appendChild(el('h2', null, 'Checker results'));
    if (data.results.length === 0) section.appendChild(el('p', null, 'No checker results were recorded for this run.'));
    data.results.forEach(function (result) {
      var verdict = verdictName(result.valid);
      var card = el('div', 'result', el('h3', null, el('span', 'badge verdict-' + verdict, verdict), ' ', result.checker));
      card.appendChild(el('p', 'summary', result.summary));
      if (result.unknownReason) card.appendChild(el('p', 'unknown-reason', 'Could not decide: ' + result.unknownReason));
      var statKeys = Object.keys(result.stats);
      if (statKeys.length > 0) {
        card.appendChild(el('div', 'stats', statKeys.map(function (key) { return key + ' ' + result.stats[key]; }).join(' · ')));
      }
      if (result.extra) {
        var extra = el('details', null, el('summary', null, 'more from ' + result.checker));
        extra.appendChild(jsonTree(result.extra, 0));
        card.appendChild(extra);
      }
      if (result.anomalyCount > 0) {
        card.appendChild(el('p', 'anomaly-count', 'Showing ' + result.anomalies.length + ' of ' + result.anomalyCount + ' anomalies.'));
      }
      result.anomalies.forEach(function (anomaly) { card.appendChild(renderAnomaly(anomaly)); });
      section.appendChild(card);
    });
  }

  function renderAnomaly(anomaly) {
    var box = el('div', 'anomaly', el('h4', null, anomaly.kind), el('p', 'explanation', anomaly.explanation));
    if (anomaly.ops.length > 0) {
      box.appendChild(opsTable(anomaly.ops));
    } else if (anomaly.opIndexes.length > 0) {
      box.appendChild(el('p', null, 'Ops: ' + anomaly.opIndexes.join(', ')));
    }
    if (anomaly.linearizability) box.appendChild(renderLinearizability(anomaly.linearizability));
    if (anomaly.cycle) box.appendChild(renderCycle(anomaly.cycle));
    if (anomaly.details !== undefined && anomaly.details !== null) {
      var details = el('dl', 'details');
      var fields = typeof anomaly.details === 'object' && !Array.isArray(anomaly.details) ? Object.keys(anomaly.details) : null;
      if (fields === null) {
        details.appendChild(el('dt', null, 'details'));
        details.appendChild(el('dd', null, jsonTree(anomaly.details, 0)));
      } else {
        fields.filter(function (field) { return field !== 'cycle'; }).forEach(function (field) {
          details.appendChild(el('dt', null, field));
          details.appendChild(el('dd', null, jsonTree(anomaly.details[field], 0)));
        });
      }
      box.appendChild(details);
    }
    return box;
  }

  function opsTable(ops) {
    var head = el('tr', null);
    ['op', 'time', 'process', 'type', 'f', 'key', 'value', 'error', ''].forEach(function (name) { head.appendChild(el('th', null, name)); });
    var body = el('tbody', null);
    ops.forEach(function (op) {
      var show = el('button', 'show-op', 'timeline');
      show.addEventListener('click', function () { focusOp(op.index); });
      body.appendChild(el('tr', 'op-' + op.type, el('td', null, String(op.index)), el('td', null, formatNs(op.timeNs)),
        el('td', null, op.process), el('td', null, op.type), el('td', null, op.f), el('td', null, op.key === undefined ? '' : op.key),
        el('td', 'value', op.value), el('td', null, op.error || ''), el('td', null, show)));
    });
    return el('table', 'grid ops', el('thead', null, head), body);
  }

  // The linearized prefix before the failing op, the states it could not fit, and the shrunk history.
  function renderLinearizability(view) {
    var box = el('div', 'linearizability');
    if (view.key !== undefined) box.appendChild(el('p', null, el('strong', null, 'Key: '), el('code', null, view.key)));
    var prefixTitle = 'Linearized before it: ' + view.prefixLength + ' ops';
    if (view.prefixOps.length < view.prefixLength) prefixTitle += ', the last ' + view.prefixOps.length + ' shown';
    box.appendChild(el('h5', null, prefixTitle));
    if (view.prefixOps.length > 0) box.appendChild(opsTable(view.prefixOps));
    box.appendChild(el('h5', null, 'Model states it could not take effect in'));
    var states = el('ul', 'states');
    view.statesBefore.forEach(function (state) { states.appendChild(el('li', null, el('code', null, state))); });
    box.appendChild(states);
    if (view.minimalHistoryLength > 0) {
      var title = 'Shrunk history that still fails: ' + view.minimalHistoryLength + ' ops' + (view.minimalHistoryComplete ? ', none can be dropped' : '');
      if (view.minimalHistory.length < view.minimalHistoryLength) title += ', the first ' + view.minimalHistory.length + ' shown';
      box.appendChild(el('details', null, el('summary', null, title), opsTable(view.minimalHistory)));
    }
    return box;
  }

  // A dependency cycle: transactions on a circle, arrows labelled with the dependency type.
  function renderCycle(cycle) {
    var svgNs = 'http://www.w3.org/2000/svg';
    function svg(tag, attrs) {
      var node = document.createElementNS(svgNs, tag);
      Object.keys(attrs).forEach(function (name) { node.setAttribute(name, String(attrs[name])); });
      return node;
    }
    var size = 280, center = size / 2, radius = cycle.txns.length === 1 ? 0 : 95, nodeRadius = 20;
    var root = svg('svg', { width: size, height: size, viewBox: '0 0 ' + size + ' ' + size, 'class': 'cycle' });
    var defs = svg('defs', {});
    var marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
    marker.appendChild(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#444' }));
    defs.appendChild(marker);
    root.appendChild(defs);
    var points = cycle.txns.map(function (_, i) {
      var angle = -Math.PI / 2 + (2 * Math.PI * i) / cycle.txns.length;
      return { x: center + radius * Math.cos(angle), y: center + radius * Math.sin(angle) };
    });
    cycle.edges.forEach(function (edge) {
      var a = points[edge.from], b = points[edge.to];
      var dx = b.x - a.x, dy = b.y - a.y, length = Math.sqrt(dx * dx + dy * dy) || 1;
      var ux = dx / length, uy = dy / length;
      // Bend each arrow a little so that two opposite edges do not overlap.
      var mx = (a.x + b.x) / 2 - uy * 18, my = (a.y + b.y) / 2 + ux * 18;
      root.appendChild(svg('path', { d: 'M ' + (a.x + ux * nodeRadius) + ' ' + (a.y + uy * nodeRadius) + ' Q ' + mx + ' ' + my + ' ' +
        (b.x - ux * nodeRadius) + ' ' + (b.y - uy * nodeRadius), fill: 'none', stroke: '#444', 'stroke-width': 1.5, 'marker-end': 'url(#arrow)' }));
      var label = svg('text', { x: mx, y: my, 'text-anchor': 'middle', 'class': 'edge-label' });
      label.textContent = edge.type;
      root.appendChild(label);
    });
    cycle.txns.forEach(function (txn, i) {
      root.appendChild(svg('circle', { cx: points[i].x, cy: points[i].y, r: nodeRadius, fill: '#eef3fb', stroke: '#3465a4' }));
      var text = svg('text', { x: points[i].x, y: points[i].y + 4, 'text-anchor': 'middle', 'class': 'node-label' });
      text.textContent = 'T' + (i + 1);
      root.appendChild(text);
    });
    var legend = el('ul', 'cycle-legend');
    cycle.txns.forEach(function (txn, i) {
      legend.appendChild(el('li', null, 'T' + (i + 1) + ': op ' + txn.index + ', process ' + txn.process + ', ' + txn.value));
    });
    cycle.edges.forEach(function (edge) {
      legend.appendChild(el('li', null, 'T' + (edge.from + 1) + ' → T' + (edge.to + 1) + ' (' + edge.type + '): ' + edge.why));
    });
    return el('div', 'cycle-box', root, legend);
  }

  // ---- charts: one shared time window ----

  var timeline = data.timeline;
  var historyEndNs = Math.max(1, data.run.durationNs);
  var view = { startNs: 0, endNs: historyEndNs };
  var focusedOp = -1;
  var lanes = [];
  for (var laneIndex = 0; laneIndex < timeline.laneCount; laneIndex++) lanes.push([]);
  for (var opIndex = 0; opIndex < timeline.startNs.length; opIndex++) lanes[timeline.lane[opIndex]].push(opIndex);

  function opEndNs(i) { return timeline.endNs[i] < 0 ? historyEndNs : timeline.endNs[i]; }

  function setupCanvas(canvas, heightPx) {
    var widthPx = canvas.parentNode.clientWidth;
    var ratio = window.devicePixelRatio || 1;
    canvas.style.width = widthPx + 'px';
    canvas.style.height = heightPx + 'px';
    canvas.width = Math.floor(widthPx * ratio);
    canvas.height = Math.floor(heightPx * ratio);
    var context = canvas.getContext('2d');
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    return { context: context, widthPx: widthPx, heightPx: heightPx, plotWidthPx: widthPx - GUTTER_LEFT_PX - GUTTER_RIGHT_PX };
  }

  // Restricts drawing to the plot area, so bars and lines never run into the axis gutter.
  function clipPlot(frame, topPx, bottomPx) {
    frame.context.save();
    frame.context.beginPath();
    frame.context.rect(GUTTER_LEFT_PX, topPx, frame.plotWidthPx, bottomPx - topPx);
    frame.context.clip();
  }

  function xOf(frame, timeNs) { return GUTTER_LEFT_PX + ((timeNs - view.startNs) / (view.endNs - view.startNs)) * frame.plotWidthPx; }
  function timeOf(frame, xPx) { return view.startNs + ((xPx - GUTTER_LEFT_PX) / frame.plotWidthPx) * (view.endNs - view.startNs); }

  function drawFaultBands(frame, topPx, bottomPx, withLabels) {
    var context = frame.context;
    data.faults.forEach(function (band) {
      var x0 = Math.max(GUTTER_LEFT_PX, xOf(frame, band.startNs));
      var x1 = Math.min(GUTTER_LEFT_PX + frame.plotWidthPx, xOf(frame, band.endNs));
      if (x1 < x0) return;
      context.fillStyle = FAULT_COLORS[band.f] || 'rgba(0,0,0,0.08)';
      context.fillRect(x0, topPx, Math.max(1, x1 - x0), bottomPx - topPx);
      if (withLabels && x1 - x0 > 30) {
        context.fillStyle = '#555';
        context.font = '10px sans-serif';
        context.fillText(band.f + ' ' + band.targets + (band.healed ? '' : ' (not healed)'), x0 + 2, topPx + 10, x1 - x0 - 4);
      }
    });
  }

  function drawTimeAxis(frame, yPx) {
    var context = frame.context;
    context.fillStyle = '#555';
    context.font = '10px sans-serif';
    var ticks = 8;
    for (var i = 0; i <= ticks; i++) {
      var timeNs = view.startNs + ((view.endNs - view.startNs) * i) / ticks;
      var x = xOf(frame, timeNs);
      context.fillRect(x, yPx, 1, 4);
      context.textAlign = 'center';
      if (i === 0) context.textAlign = 'left';
      if (i === ticks) context.textAlign = 'right';
      context.fillText(formatNs(timeNs), x, yPx + 14);
    }
    context.textAlign = 'left';
  }

  var laneHeightPx = Math.max(3, Math.min(16, Math.floor(420 / Math.max(1, timeline.laneCount))));
  var timelineTopPx = 16;

  function drawTimeline() {
    var canvas = document.getElementById('timeline');
    var heightPx = timelineTopPx + timeline.laneCount * laneHeightPx + 22;
    var frame = setupCanvas(canvas, heightPx);
    var context = frame.context;
    var plotBottomPx = timelineTopPx + timeline.laneCount * laneHeightPx;
    drawFaultBands(frame, 0, plotBottomPx, true);

    // Ops at least two pixels wide are drawn as bars. Narrower ones are merged per pixel column
    // and lane, keeping the type with the highest priority, so 100k ops cost one pass.
    var columns = Math.max(1, Math.ceil(frame.plotWidthPx));
    var cells = new Uint8Array(columns * Math.max(1, timeline.laneCount));
    for (var i = 0; i < timeline.startNs.length; i++) {
      var endNs = opEndNs(i);
      if (endNs < view.startNs || timeline.startNs[i] > view.endNs) continue;
      var x0 = xOf(frame, timeline.startNs[i]), x1 = xOf(frame, endNs);
      var type = timeline.type[i];
      if (x1 - x0 >= 2) {
        context.fillStyle = TYPE_COLORS[type];
        var left = Math.max(GUTTER_LEFT_PX, x0);
        context.fillRect(left, timelineTopPx + timeline.lane[i] * laneHeightPx + 1, Math.max(1, Math.min(x1, GUTTER_LEFT_PX + frame.plotWidthPx) - left - 0.5), laneHeightPx - 2);
        continue;
      }
      var column = Math.min(columns - 1, Math.max(0, Math.floor(x0 - GUTTER_LEFT_PX)));
      var cell = timeline.lane[i] * columns + column;
      if (TYPE_PRIORITY[type] > (cells[cell] === 0 ? 0 : TYPE_PRIORITY[cells[cell] - 1])) cells[cell] = type + 1;
    }
    for (var c = 0; c < cells.length; c++) {
      if (cells[c] === 0) continue;
      context.fillStyle = TYPE_COLORS[cells[c] - 1];
      context.fillRect(GUTTER_LEFT_PX + (c % columns), timelineTopPx + Math.floor(c / columns) * laneHeightPx + 1, 1, laneHeightPx - 2);
    }

    if (focusedOp >= 0) {
      var fx0 = xOf(frame, timeline.startNs[focusedOp]), fx1 = xOf(frame, opEndNs(focusedOp));
      context.strokeStyle = '#000';
      context.lineWidth = 2;
      context.strokeRect(fx0 - 2, timelineTopPx + timeline.lane[focusedOp] * laneHeightPx - 1, Math.max(4, fx1 - fx0 + 4), laneHeightPx + 2);
    }

    context.fillStyle = '#333';
    context.font = Math.min(11, laneHeightPx) + 'px sans-serif';
    if (laneHeightPx >= 8) {
      timeline.laneLabels.forEach(function (label, lane) {
        context.fillText('p ' + label, 2, timelineTopPx + lane * laneHeightPx + laneHeightPx - 2, GUTTER_LEFT_PX - 6);
      });
    }
    drawTimeAxis(frame, plotBottomPx + 2);
    canvas.frame = frame;
  }

  function drawLatency() {
    var canvas = document.getElementById('latency');
    var frame = setupCanvas(canvas, 220);
    var context = frame.context;
    var topPx = 8, bottomPx = 190;
    var maxNs = 1;
    for (var i = 0; i < timeline.startNs.length; i++) if (timeline.endNs[i] >= 0) maxNs = Math.max(maxNs, timeline.endNs[i] - timeline.startNs[i]);
    var minNs = maxNs;
    for (var k = 0; k < timeline.startNs.length; k++) if (timeline.endNs[k] >= 0) minNs = Math.min(minNs, timeline.endNs[k] - timeline.startNs[k]);
    minNs = Math.max(1, Math.min(minNs / 2, maxNs / 10));
    var logMin = Math.log10(Math.max(1, minNs)), logMax = Math.log10(maxNs) + 0.05;
    function yOf(latencyNs) {
      var clamped = Math.max(latencyNs, Math.pow(10, logMin));
      return bottomPx - ((Math.log10(clamped) - logMin) / (logMax - logMin)) * (bottomPx - topPx);
    }
    drawFaultBands(frame, topPx, bottomPx, false);
    clipPlot(frame, topPx - 2, bottomPx + 2);

    // One dot per pixel: the highest-priority type among the ops landing on it.
    var widthPx = Math.ceil(frame.widthPx), heightPx = bottomPx + 1;
    var dots = new Uint8Array(widthPx * heightPx);
    for (var j = 0; j < timeline.startNs.length; j++) {
      if (timeline.endNs[j] < 0 || timeline.startNs[j] < view.startNs || timeline.startNs[j] > view.endNs) continue;
      var x = Math.floor(xOf(frame, timeline.startNs[j])), y = Math.floor(yOf(timeline.endNs[j] - timeline.startNs[j]));
      if (x < 0 || x >= widthPx || y < 0 || y >= heightPx) continue;
      var dot = y * widthPx + x, type = timeline.type[j];
      if (TYPE_PRIORITY[type] > (dots[dot] === 0 ? 0 : TYPE_PRIORITY[dots[dot] - 1])) dots[dot] = type + 1;
    }
    for (var d = 0; d < dots.length; d++) {
      if (dots[d] === 0) continue;
      context.fillStyle = TYPE_COLORS[dots[d] - 1];
      context.fillRect(d % widthPx, Math.floor(d / widthPx), 2, 2);
    }

    [['p50Ns', '#1f4e8c'], ['p99Ns', '#7b2d8e']].forEach(function (line) {
      context.strokeStyle = line[1];
      context.lineWidth = 1.5;
      context.beginPath();
      var started = false;
      data.latency.forEach(function (bin) {
        var bx = xOf(frame, bin.startNs + data.binNs / 2);
        if (bx < GUTTER_LEFT_PX || bx > GUTTER_LEFT_PX + frame.plotWidthPx) return;
        var by = yOf(bin[line[0]]);
        if (started) context.lineTo(bx, by); else context.moveTo(bx, by);
        started = true;
      });
      context.stroke();
    });
    context.restore();

    context.fillStyle = '#555';
    context.font = '10px sans-serif';
    // Ticks at powers of ten, plus 2 and 5 times them when the range spans under two decades.
    var steps = logMax - logMin < 2 ? [1, 2, 5] : [1];
    for (var power = Math.floor(logMin); power <= logMax; power++) {
      steps.forEach(function (step) {
        var tickNs = step * Math.pow(10, power);
        if (Math.log10(tickNs) < logMin || Math.log10(tickNs) > logMax) return;
        var tickY = yOf(tickNs);
        context.fillRect(GUTTER_LEFT_PX - 4, tickY, 4, 1);
        context.fillText(formatNs(tickNs), 4, tickY + 3);
      });
    }
    context.fillStyle = '#1f4e8c';
    context.fillText('p50', GUTTER_LEFT_PX - 30, topPx + 8);
    context.fillStyle = '#7b2d8e';
    context.fillText('p99', GUTTER_LEFT_PX - 30, topPx + 20);
    drawTimeAxis(frame, bottomPx + 2);
    canvas.frame = frame;
  }

  function drawThroughput() {
    var canvas = document.getElementById('throughput');
    var frame = setupCanvas(canvas, 200);
    var context = frame.context;
    var topPx = 8, bottomPx = 170;
    var binSeconds = data.binNs / 1e9;
    var maxRate = 1;
    data.throughput.forEach(function (bin) { maxRate = Math.max(maxRate, (bin.ok + bin.fail + bin.info) / binSeconds); });
    function yOf(rate) { return bottomPx - (rate / maxRate) * (bottomPx - topPx); }
    drawFaultBands(frame, topPx, bottomPx, false);
    clipPlot(frame, topPx - 2, bottomPx + 2);

    ['ok', 'fail', 'info'].forEach(function (type, typeIndex) {
      context.strokeStyle = TYPE_COLORS[typeIndex];
      context.lineWidth = 1.5;
      context.beginPath();
      var started = false;
      data.throughput.forEach(function (bin) {
        var x0 = xOf(frame, bin.startNs), x1 = xOf(frame, bin.startNs + data.binNs);
        if (x1 < GUTTER_LEFT_PX || x0 > GUTTER_LEFT_PX + frame.plotWidthPx) return;
        var y = yOf(bin[type] / binSeconds);
        if (started) context.lineTo(x0, y); else context.moveTo(x0, y);
        context.lineTo(x1, y);
        started = true;
      });
      context.stroke();
    });
    context.restore();

    context.fillStyle = '#555';
    context.font = '10px sans-serif';
    [0, 0.5, 1].forEach(function (share) {
      var y = yOf(maxRate * share);
      context.fillRect(GUTTER_LEFT_PX - 4, y, 4, 1);
      context.fillText(Math.round(maxRate * share) + ' ops/s', 4, y + 3);
    });
    drawTimeAxis(frame, bottomPx + 2);
    canvas.frame = frame;
  }

  function drawCharts() {
    drawTimeline();
    drawLatency();
    drawThroughput();
    document.getElementById('window').textContent = 'showing ' + formatNs(view.startNs) + ' – ' + formatNs(view.endNs) +
      ' of ' + formatNs(historyEndNs);
  }

  function setView(startNs, endNs) {
    var spanNs = Math.max(1000, Math.min(historyEndNs, endNs - startNs));
    startNs = Math.max(0, Math.min(startNs, historyEndNs - spanNs));
    view.startNs = startNs;
    view.endNs = startNs + spanNs;
    drawCharts();
  }

  function focusOp(historyIndex) {
    var found = -1;
    for (var i = 0; i < timeline.invokeIndex.length; i++) {
      if (timeline.invokeIndex[i] === historyIndex || timeline.completionIndex[i] === historyIndex) { found = i; break; }
    }
    if (found < 0) return;
    focusedOp = found;
    var spanNs = Math.max(opEndNs(found) - timeline.startNs[found], 1000) * 20;
    setView(timeline.startNs[found] - spanNs / 2, timeline.startNs[found] + spanNs / 2);
    document.getElementById('charts').scrollIntoView();
  }

  // Returns the timeline op under a point, or -1. Ops in one lane never overlap, so a binary search by start finds it.
  function opAt(frame, xPx, yPx) {
    var lane = Math.floor((yPx - timelineTopPx) / laneHeightPx);
    if (lane < 0 || lane >= timeline.laneCount) return -1;
    var timeNs = timeOf(frame, xPx), slackNs = 3 * (view.endNs - view.startNs) / frame.plotWidthPx;
    var ops = lanes[lane], low = 0, high = ops.length - 1, best = -1;
    while (low <= high) {
      var middle = (low + high) >> 1;
      if (timeline.startNs[ops[middle]] <= timeNs + slackNs) { best = middle; low = middle + 1; } else high = middle - 1;
    }
    if (best < 0) return -1;
    var candidate = ops[best];
    return opEndNs(candidate) + slackNs >= timeNs ? candidate : -1;
  }

  function installInteraction(canvas) {
    var tooltip = document.getElementById('tooltip');
    var drag = null;
    canvas.addEventListener('wheel', function (event) {
      event.preventDefault();
      var frame = canvas.frame, anchorNs = timeOf(frame, event.offsetX);
      var factor = event.deltaY > 0 ? 1.25 : 0.8;
      setView(anchorNs - (anchorNs - view.startNs) * factor, anchorNs + (view.endNs - anchorNs) * factor);
    }, { passive: false });
    canvas.addEventListener('mousedown', function (event) { drag = { x: event.clientX, startNs: view.startNs, endNs: view.endNs }; });
    window.addEventListener('mouseup', function () { drag = null; });
    canvas.addEventListener('mousemove', function (event) {
      var frame = canvas.frame;
      if (drag) {
        var shiftNs = ((drag.x - event.clientX) / frame.plotWidthPx) * (drag.endNs - drag.startNs);
        setView(drag.startNs + shiftNs, drag.endNs + shiftNs);
        return;
      }
      if (canvas.id !== 'timeline') return;
      var op = opAt(frame, event.offsetX, event.offsetY);
      if (op < 0) { tooltip.style.display = 'none'; return; }
      var latency = timeline.endNs[op] < 0 ? 'never completed' : formatNs(timeline.endNs[op] - timeline.startNs[op]);
      tooltip.textContent = 'op ' + timeline.invokeIndex[op] + (timeline.completionIndex[op] >= 0 ? '–' + timeline.completionIndex[op] : '') +
        ' · process ' + timeline.process[op] + ' · ' + timeline.fNames[timeline.fCode[op]] + ' ' + TYPE_NAMES[timeline.type[op]] +
        ' · ' + latency + ' at ' + formatNs(timeline.startNs[op]) + '\n' + timeline.label[op];
      tooltip.style.display = 'block';
      tooltip.style.left = (event.pageX + 12) + 'px';
      tooltip.style.top = (event.pageY + 12) + 'px';
    });
    canvas.addEventListener('mouseleave', function () { tooltip.style.display = 'none'; });
    canvas.addEventListener('dblclick', function () { setView(0, historyEndNs); });
  }

  function renderCharts() {
    var legend = document.getElementById('legend');
    TYPE_NAMES.forEach(function (name, i) {
      var swatch = el('span', 'swatch');
      swatch.style.background = TYPE_COLORS[i];
      legend.appendChild(el('span', 'legend-item', swatch, name));
    });
    Object.keys(FAULT_COLORS).forEach(function (name) {
      var swatch = el('span', 'swatch');
      swatch.style.background = FAULT_COLORS[name].replace(/[0-9.]+\)$/, '0.5)');
      legend.appendChild(el('span', 'legend-item', swatch, name));
    });
    if (timeline.startNs.length < timeline.opCountTotal) {
      document.getElementById('timeline-note').textContent = 'The timeline shows the first ' + timeline.startNs.length + ' of ' +
        timeline.opCountTotal + ' client ops.';
    }
    var faultList = document.getElementById('fault-list');
    data.faults.forEach(function (band) {
      faultList.appendChild(el('li', null, band.f + ' ' + band.targets + ': ' + formatNs(band.startNs) + ' – ' +
        (band.healed ? formatNs(band.endNs) + ' (' + band.endF + ')' : 'not healed before the history ends')));
    });
    ['timeline', 'latency', 'throughput'].forEach(function (id) { installInteraction(document.getElementById(id)); });
    document.getElementById('reset-view').addEventListener('click', function () { focusedOp = -1; setView(0, historyEndNs); });
    document.getElementById('zoom-out').addEventListener('click', function () {
      var spanNs = view.endNs - view.startNs;
      setView(view.startNs - spanNs / 2, view.endNs + spanNs / 2);
    });
    window.addEventListener('resize', drawCharts);
    drawCharts();
  }

  renderBanner();
  renderProblems();
  renderResults();
  renderCharts();
  renderCounts();
  renderRunDetails();
  document.body.setAttribute('data-rendered', 'true');
})();
`;
