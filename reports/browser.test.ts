// Opens generated reports in headless Chromium: markup from a history must render as text, and a
// 100k-op report must draw. Set REPORT_SCREENSHOT_DIR to also save screenshots there.
import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildReportData } from './data.js';
import { renderReportHtml } from './html.js';
import { renderStoreIndexHtml } from './index-html.js';
import { syntheticRun } from './testing/synthetic-run.js';

const CHROMIUM_PATH = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM_PATH) ? false : 'chromium not found: install it with `apt-get install -y chromium`';
const screenshotDir = process.env.REPORT_SCREENSHOT_DIR;

const KEY_PAYLOAD = '<script>window.pwned = "key"</script>';
const VALUE_PAYLOAD = '</script><script>window.pwned = "value"</script><img src=x onerror="window.pwned = 1">';

let browser: Browser | undefined;
let folder = '';

t.before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'traft-report-browser-'));
  if (skip === false) {
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
  }
});

t.teardown(async () => {
  await browser?.close();
  await rm(folder, { recursive: true, force: true });
});

/** Opens a page, recording page errors and every request that is not the file itself. */
async function openPage(path: string): Promise<{ page: Page; errors: string[]; requests: string[] }> {
  const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('request', (request) => {
    if (request.url() !== pathToFileURL(path).href) requests.push(request.url());
  });
  await page.goto(pathToFileURL(path).href);
  await page.waitForSelector('body[data-rendered="true"]', { timeout: 60_000 });
  return { page, errors, requests };
}

t.test('browser: markup in a history renders as text', { skip }, async (t) => {
  const run = syntheticRun({ clientOpCount: 600, concurrency: 4, seed: 9, keyPrefix: KEY_PAYLOAD, valuePayload: VALUE_PAYLOAD });
  run.meta.workload = KEY_PAYLOAD;
  run.meta.command = `traft run ${VALUE_PAYLOAD}`;
  run.results[0].summary = `summary ${KEY_PAYLOAD}`;
  run.results[0].anomalies[0].explanation = `explanation ${VALUE_PAYLOAD}`;
  const path = join(folder, 'payload.html');
  await writeFile(path, renderReportHtml(buildReportData(run.meta, run.ops, run.results)));

  const { page, errors, requests } = await openPage(path);
  t.equal(await page.evaluate(() => (globalThis as { pwned?: unknown }).pwned), undefined, 'no payload script ran');
  t.equal(await page.locator('script').count(), 2, 'only the data block and the page script');
  t.equal(await page.locator('img').count(), 0, 'no element made from a payload');
  t.same(errors, [], 'no page errors');
  t.same(requests, [], 'no requests beyond the file');

  const banner = await page.locator('#banner').innerText();
  t.ok(banner.includes(VALUE_PAYLOAD), 'the replay command shows the payload as text');
  const results = await page.locator('#results').innerText();
  t.ok(results.includes(`summary ${KEY_PAYLOAD}`), 'summary shown as text');
  t.ok(results.includes(`explanation ${VALUE_PAYLOAD}`), 'explanation shown as text');
  t.ok(results.includes(`${KEY_PAYLOAD}`), 'the anomaly op key shown as text');
  // Value cells show JSON, so the payload appears inside a JSON string.
  t.ok(await page.locator('td.value', { hasText: '</script><script>window.pwned' }).first().isVisible(), 'a value cell shows the payload');
  t.ok((await page.title()).includes(KEY_PAYLOAD), 'title set as text');

  // Hover the middle of the timeline: the tooltip shows an op with the payload as text.
  await page.locator('#timeline').scrollIntoViewIfNeeded();
  const box = (await page.locator('#timeline').boundingBox())!;
  let tooltip = '';
  for (let step = 0; step < 40 && !tooltip.includes('<script>'); step++) {
    await page.mouse.move(box.x + 100 + step * 25, box.y + 16 + 8);
    tooltip = await page.locator('#tooltip').innerText();
  }
  t.ok(tooltip.includes(KEY_PAYLOAD), `tooltip shows the key as text: ${tooltip}`);
  t.equal(await page.evaluate(() => (globalThis as { pwned?: unknown }).pwned), undefined, 'still no payload script ran');

  if (screenshotDir !== undefined) await page.screenshot({ path: join(screenshotDir, 'report-payload.png'), fullPage: true });
  await page.close();
});

t.test('browser: empty history renders', { skip }, async (t) => {
  const run = syntheticRun({ clientOpCount: 10, concurrency: 1, seed: 2 });
  const path = join(folder, 'empty.html');
  await writeFile(path, renderReportHtml(buildReportData(run.meta, [], [])));
  const { page, errors } = await openPage(path);
  t.same(errors, [], 'no page errors');
  t.match(await page.locator('#banner').innerText(), /UNKNOWN/);
  t.match(await page.locator('#results').innerText(), /No checker results were recorded/);
  await page.close();
});

t.test('browser: store index renders names as text', { skip }, async (t) => {
  const path = join(folder, 'index.html');
  const runName = 'javascript:window.pwned=1';
  await writeFile(path, renderStoreIndexHtml([{ workload: KEY_PAYLOAD, runName, seed: 1, startedAt: 'now', valid: false, opCount: 3, hasReport: true }]));
  const { page, errors } = await openPage(path);
  t.same(errors, []);
  t.ok((await page.locator('#runs').innerText()).includes(KEY_PAYLOAD), 'workload shown as text');
  const href = await page.locator('#runs a').getAttribute('href');
  t.equal(href, `${encodeURIComponent(KEY_PAYLOAD)}/${encodeURIComponent(runName)}/report.html`, 'link is a relative, encoded path');
  await page.locator('#runs a').click({ noWaitAfter: true }).catch(() => undefined);
  t.equal(await page.evaluate(() => (globalThis as { pwned?: unknown }).pwned).catch(() => undefined), undefined, 'the link runs no script');
  await page.close();
});

t.test('browser: 100k-op report draws', { skip }, async (t) => {
  const run = syntheticRun({ clientOpCount: 50_000, concurrency: 10, seed: 21 });
  const path = join(folder, 'large.html');
  const buildStartMs = performance.now();
  const html = renderReportHtml(buildReportData(run.meta, run.ops, run.results));
  const buildMs = performance.now() - buildStartMs;
  await writeFile(path, html);

  const loadStartMs = performance.now();
  const { page, errors } = await openPage(path);
  const loadMs = performance.now() - loadStartMs;
  t.same(errors, []);
  const sizeBytes = (await stat(path)).size;
  // Figures only, not limits: timing targets belong in benchmarks.
  t.comment(`${run.ops.length} ops: data + html ${buildMs.toFixed(0)} ms, ${(sizeBytes / 1e6).toFixed(1)} MB, page rendered in ${loadMs.toFixed(0)} ms`);

  const paintedPixels = await page.evaluate(() => {
    const doc = (globalThis as unknown as { document: { getElementById(id: string): unknown } }).document;
    const canvas = doc.getElementById('timeline') as {
      width: number;
      height: number;
      getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
    };
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
    return painted;
  });
  t.ok(paintedPixels > 10_000, `timeline painted (${paintedPixels} pixels)`);

  // Zoom in with the wheel and check the window label follows.
  const before = await page.locator('#window').innerText();
  await page.locator('#timeline').scrollIntoViewIfNeeded();
  const box = (await page.locator('#timeline').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + 40);
  for (let i = 0; i < 5; i++) await page.mouse.wheel(0, -100);
  t.not(await page.locator('#window').innerText(), before, 'zoom changes the time window');

  // The timeline button of an anomaly op zooms the charts onto that op.
  const beforeFocus = await page.locator('#window').innerText();
  await page.locator('button.show-op').first().click();
  t.not(await page.locator('#window').innerText(), beforeFocus, 'focusing an op changes the time window');

  if (screenshotDir !== undefined) await page.screenshot({ path: join(screenshotDir, 'report-100k.png') });
  await page.close();
});
