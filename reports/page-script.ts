// The report page's sections (banner, checker results, anomalies, counts, run details) as browser
// JavaScript. Every string from a history or a checker is inserted with textContent or
// createTextNode, never parsed as HTML. The parsed `data` and the helpers `el` and `formatNs` are
// defined here for the chart script too.
//
// The source is plain browser JavaScript in a string, because the project compiles without DOM
// types. It must contain no backtick and no dollar-brace pair, so String.raw keeps it verbatim.

export const PAGE_SCRIPT = String.raw`
  var data = JSON.parse(document.getElementById('report-data').textContent);

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

`;
