// The report page's charts (timeline, latency, throughput) as browser JavaScript: canvases that
// share one time window, with wheel zoom, drag to pan and a hover tooltip set with textContent.
// It uses `data`, `el` and `formatNs` from the page script, which precedes it in the same function.
//
// The source is plain browser JavaScript in a string, because the project compiles without DOM
// types. It must contain no backtick and no dollar-brace pair, so String.raw keeps it verbatim.

export const CHART_SCRIPT = String.raw`
  var TYPE_NAMES = ['ok', 'fail', 'info', 'pending'];
  var TYPE_COLORS = ['#3b9a5a', '#d64541', '#e8a13a', '#9aa0a6'];
  // Drawing priority when several ops share a pixel: info, then fail, then pending, then ok.
  var TYPE_PRIORITY = [1, 3, 4, 2];
  var FAULT_COLORS = { kill: 'rgba(214,69,65,0.13)', pause: 'rgba(232,161,58,0.16)', partition: 'rgba(106,90,205,0.13)', stop: 'rgba(120,120,120,0.15)' };
  var GUTTER_LEFT_PX = 90;
  var GUTTER_RIGHT_PX = 12;

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

  // Returns the timeline op under a point, or -1. In a well-formed history the ops of one lane never overlap, so a binary search by start finds it.
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
        (band.healed ? formatNs(band.endNs) + ' (' + band.endF + ')' : 'not healed before the history ends') +
        (band.error ? '; the nemesis reported: ' + band.error : '')));
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
`;
