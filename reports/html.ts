// Renders report data into one self-contained HTML file: inline CSS and script, data as JSON.
import { REPORT_CLIENT_SCRIPT } from './client-script.js';
import type { ReportData } from './types.js';

/**
 * Returns JSON that is safe inside a `<script type="application/json">` block: every `<` is
 * escaped, so neither `</script>` nor `<!--` in history strings can end or change the block.
 * JSON.parse reads the escapes back as the original characters.
 */
export function embedJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const REPORT_CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d1d1f; background: #fafafa; }
main { padding: 0 24px 40px; max-width: 1400px; }
h2 { margin: 28px 0 10px; font-size: 19px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { margin: 16px 0 6px; font-size: 16px; }
h4 { margin: 4px 0; font-size: 14px; font-family: ui-monospace, monospace; }
code, .value { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 12.5px; }
.banner { padding: 16px 24px; color: #fff; }
.verdict-valid { background: #2e7d4f; }
.verdict-invalid { background: #b3261e; }
.verdict-unknown { background: #8a6d1f; }
.verdict-word { font-size: 28px; font-weight: 700; letter-spacing: 1px; }
.verdict-text { font-size: 16px; margin-top: 2px; }
.verdict-facts { opacity: 0.9; margin-top: 4px; }
.replay { margin-top: 8px; background: rgba(0,0,0,0.18); padding: 6px 10px; border-radius: 4px; overflow-x: auto; white-space: nowrap; }
.replay code { color: #fff; }
button { font-size: 12px; margin-left: 8px; cursor: pointer; }
#problems { color: #b3261e; }
.result { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 10px 16px; margin: 12px 0; }
.badge { color: #fff; border-radius: 3px; padding: 1px 7px; font-size: 12px; text-transform: uppercase; vertical-align: 2px; }
.summary { margin: 4px 0; }
.unknown-reason { color: #8a6d1f; }
.stats { color: #555; font-size: 12.5px; }
.anomaly { border-left: 4px solid #b3261e; padding: 4px 12px; margin: 12px 0; background: #fdf6f5; }
.explanation { margin: 4px 0 8px; }
table.grid { border-collapse: collapse; margin: 6px 0; background: #fff; }
table.grid th, table.grid td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
table.grid th { background: #f0f0f0; font-weight: 600; }
table.ops td.value { max-width: 520px; overflow-wrap: anywhere; }
tr.op-ok td:nth-child(4) { color: #2e7d4f; } tr.op-fail td:nth-child(4) { color: #b3261e; } tr.op-info td:nth-child(4) { color: #a86b00; }
h5 { margin: 10px 0 2px; font-size: 13px; } ul.states { margin: 2px 0; }
dl.details { margin: 6px 0; } dl.details dt { font-weight: 600; margin-top: 6px; } dl.details dd { margin-left: 16px; }
ul.json-tree { list-style: none; padding-left: 14px; margin: 0; } .json-key { color: #555; }
.cycle-box { display: flex; gap: 16px; align-items: flex-start; margin: 6px 0; }
.cycle-legend { font-size: 12.5px; margin: 0; } .edge-label { font: 11px sans-serif; fill: #333; } .node-label { font: bold 12px sans-serif; }
.chart-box { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 8px; margin: 8px 0; }
.chart-box canvas { display: block; cursor: grab; }
.chart-title { font-weight: 600; margin: 4px 0; }
.toolbar { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; color: #555; }
.legend-item { margin-right: 10px; } .swatch { display: inline-block; width: 11px; height: 11px; margin-right: 4px; vertical-align: -1px; border-radius: 2px; }
#tooltip { position: absolute; display: none; background: #222; color: #fff; padding: 5px 8px; border-radius: 4px; font: 12px ui-monospace, monospace;
  white-space: pre-line; max-width: 520px; pointer-events: none; z-index: 10; overflow-wrap: anywhere; }
#fault-list { font-size: 12.5px; color: #444; max-height: 160px; overflow-y: auto; }
`;

const REPORT_BODY = `
<header id="banner" class="banner"></header>
<main>
<noscript><p>This report draws its content with JavaScript; enable it to read the report.</p></noscript>
<section id="problems"></section>
<section id="results"></section>
<section id="charts">
  <h2>Timeline</h2>
  <div class="toolbar"><span id="legend"></span><span id="window"></span>
    <button id="zoom-out" type="button">zoom out</button><button id="reset-view" type="button">reset</button>
    <span>wheel to zoom, drag to pan, double-click to reset</span></div>
  <p id="timeline-note"></p>
  <div class="chart-box"><div class="chart-title">Client ops by process (lanes), coloured by outcome, with fault bands</div><canvas id="timeline"></canvas></div>
  <div class="chart-box"><div class="chart-title">Latency of each op by start time (log scale); lines: p50 and p99 of ok ops</div><canvas id="latency"></canvas></div>
  <div class="chart-box"><div class="chart-title">Throughput: completions per second by outcome</div><canvas id="throughput"></canvas></div>
  <h3>Faults</h3>
  <ul id="fault-list"></ul>
</section>
<section id="counts"></section>
<section id="run"></section>
</main>
<div id="tooltip"></div>
`;

/** Renders the whole report page. The only data-dependent text in the markup is the embedded JSON. */
export function renderReportHtml(data: ReportData): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // No network: the page may load nothing but itself (inline styles and scripts, data: images).
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">`,
    '<title>traft report</title>',
    `<style>${REPORT_CSS}</style>`,
    '</head>',
    '<body>',
    REPORT_BODY,
    `<script type="application/json" id="report-data">${embedJson(data)}</script>`,
    `<script>${REPORT_CLIENT_SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
