import t from 'tap';
import { buildReportData } from './data.js';
import { embedJson, renderReportHtml } from './html.js';
import { REPORT_CLIENT_SCRIPT } from './client-script.js';
import { renderStoreIndexHtml } from './index-html.js';
import { syntheticRun } from './testing/synthetic-run.js';

const PAYLOAD = '</script><script>window.pwned=1</script><!--';

function dataBlock(html: string): string {
  const match = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  if (match === null) throw new Error('report-data block not found');
  return match[1];
}

t.test('html: embedded JSON escapes markup', async (t) => {
  const embedded = embedJson({ text: PAYLOAD, separators: '\u2028\u2029' });
  t.notMatch(embedded, /</, 'no raw < survives');
  t.notMatch(embedded, /\u2028|\u2029/);
  t.same(JSON.parse(embedded), { text: PAYLOAD, separators: '\u2028\u2029' });
});

t.test('html: report keeps history strings inside the data block', async (t) => {
  const run = syntheticRun({ clientOpCount: 200, concurrency: 3, seed: 5, keyPrefix: PAYLOAD, valuePayload: PAYLOAD });
  run.meta.workload = PAYLOAD;
  const data = buildReportData(run.meta, run.ops, run.results);
  const html = renderReportHtml(data);

  t.equal(html.split('<script').length - 1, 2, 'exactly the data block and the page script');
  t.notOk(html.includes(PAYLOAD), 'the raw payload does not appear');
  t.notOk(html.includes('<script>window.pwned'), 'no injected script tag');
  t.same(JSON.parse(dataBlock(html)), JSON.parse(JSON.stringify(data)), 'the data block parses back to the report data');
});

t.test('html: report loads nothing from the network', async (t) => {
  const run = syntheticRun({ clientOpCount: 50, concurrency: 2, seed: 1 });
  const html = renderReportHtml(buildReportData(run.meta, run.ops, run.results));
  t.match(html, /Content-Security-Policy" content="default-src 'none'/);
  t.notMatch(html, /\b(src|href)\s*=\s*["']?(https?:)?\/\//i, 'no external src or href');
  t.notMatch(html, /@import|url\(\s*['"]?(https?:)?\/\//i, 'no external stylesheets or fonts');
});

t.test('html: page scripts parse', async (t) => {
  t.doesNotThrow(() => new Function(REPORT_CLIENT_SCRIPT), 'report script');
  const index = renderStoreIndexHtml([]);
  const script = /<script>([\s\S]*?)<\/script>/.exec(index)![1];
  t.doesNotThrow(() => new Function(script), 'index script');
});
