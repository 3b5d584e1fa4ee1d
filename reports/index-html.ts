// The store's index page: every run, newest first, with its verdict and a link to its report.
import type { Validity } from '../checker/result.js';
import { embedJson } from './html.js';

/** One run folder as the index lists it. */
export interface StoreEntry {
  workload: string;
  /** The run folder's name, for example 20260101T120000-42. */
  runName: string;
  seed?: number;
  startedAt?: string;
  /** Undefined when the run has no results.json (still running, interrupted or crashed). */
  valid?: Validity;
  opCount: number;
  hasReport: boolean;
  /** The reason run.json or results.json could not be read, when one could not. */
  problem?: string;
}

const INDEX_SCRIPT = String.raw`
'use strict';
(function () {
  var entries = JSON.parse(document.getElementById('index-data').textContent);
  function cell(text, className) {
    var td = document.createElement('td');
    if (className) td.className = className;
    td.textContent = text;
    return td;
  }
  var body = document.getElementById('runs');
  entries.forEach(function (entry) {
    var verdict = 'not checked';
    if (entry.valid === true) verdict = 'valid';
    if (entry.valid === false) verdict = 'invalid';
    if (entry.valid === 'unknown') verdict = 'unknown';
    var row = document.createElement('tr');
    row.appendChild(cell(entry.startedAt || ''));
    row.appendChild(cell(entry.workload));
    row.appendChild(cell(entry.seed === undefined ? '' : String(entry.seed)));
    row.appendChild(cell(verdict, 'verdict verdict-' + verdict.replace(' ', '-')));
    row.appendChild(cell(String(entry.opCount)));
    var link = document.createElement('td');
    if (entry.hasReport) {
      var anchor = document.createElement('a');
      // Each path segment is percent-encoded, so a folder name can never become a URL scheme.
      anchor.setAttribute('href', encodeURIComponent(entry.workload) + '/' + encodeURIComponent(entry.runName) + '/report.html');
      anchor.textContent = entry.runName;
      link.appendChild(anchor);
    } else {
      link.textContent = entry.runName + ' (no report)';
    }
    row.appendChild(link);
    row.appendChild(cell(entry.problem || ''));
    body.appendChild(row);
  });
  document.getElementById('count').textContent = entries.length + (entries.length === 1 ? ' run' : ' runs') + ', newest first.';
  document.body.setAttribute('data-rendered', 'true');
})();
`;

const INDEX_CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #1d1d1f; }
table { border-collapse: collapse; } th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: left; } th { background: #f0f0f0; }
.verdict { font-weight: 600; } .verdict-valid { color: #2e7d4f; } .verdict-invalid { color: #b3261e; }
.verdict-unknown { color: #8a6d1f; } .verdict-not-checked { color: #777; }
`;

/** Renders store/index.html from entries already sorted newest first. */
export function renderStoreIndexHtml(entries: StoreEntry[]): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">`,
    '<title>traft runs</title>',
    `<style>${INDEX_CSS}</style>`,
    '</head>',
    '<body>',
    '<h1>traft runs</h1>',
    '<p id="count"></p>',
    '<table><thead><tr><th>started</th><th>workload</th><th>seed</th><th>verdict</th><th>ops</th><th>report</th><th>problem</th></tr></thead>',
    '<tbody id="runs"></tbody></table>',
    `<script type="application/json" id="index-data">${embedJson(entries)}</script>`,
    `<script>${INDEX_SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
