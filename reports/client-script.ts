// The report page's script, embedded verbatim in report.html. It reads the JSON data block and
// builds the page. Every string that comes from a history or a checker is inserted with
// textContent, createTextNode or canvas fillText, never parsed as HTML.
import { CHART_SCRIPT } from './chart-script.js';
import { PAGE_SCRIPT } from './page-script.js';

// Both parts run inside one function, so their function declarations see each other.
const START_SCRIPT = String.raw`
  renderBanner();
  renderProblems();
  renderResults();
  renderCharts();
  renderCounts();
  renderRunDetails();
  document.body.setAttribute('data-rendered', 'true');
`;

export const REPORT_CLIENT_SCRIPT = ["'use strict';", '(function () {', PAGE_SCRIPT, CHART_SCRIPT, START_SCRIPT, '})();', ''].join('\n');
