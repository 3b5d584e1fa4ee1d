// Report benchmark: builds and renders reports of synthetic 10k- and 100k-op runs, and loads the
// larger one in headless Chromium when /usr/bin/chromium exists. Prints the figures and writes
// them to bench/results/report.json. Run: `npx tsc -p tsconfig.json && node dist/bench/report.js`.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { buildReportData } from '../reports/data.js';
import { renderReportHtml } from '../reports/html.js';
import { syntheticRun } from '../reports/testing/synthetic-run.js';

const CHROMIUM_PATH = '/usr/bin/chromium';

interface Figures {
  opCount: number;
  buildDataMs: number;
  renderHtmlMs: number;
  htmlBytes: number;
  browserRenderMs?: number;
}

async function measure(clientOpCount: number, folder: string): Promise<Figures> {
  const run = syntheticRun({ clientOpCount, concurrency: 16, seed: 1 });
  const dataStartMs = performance.now();
  const data = buildReportData(run.meta, run.ops, run.results);
  const htmlStartMs = performance.now();
  const html = renderReportHtml(data);
  const endMs = performance.now();

  const figures: Figures = {
    opCount: run.ops.length,
    buildDataMs: Math.round(htmlStartMs - dataStartMs),
    renderHtmlMs: Math.round(endMs - htmlStartMs),
    htmlBytes: Buffer.byteLength(html),
  };
  if (existsSync(CHROMIUM_PATH)) {
    const path = join(folder, `report-${clientOpCount}.html`);
    await writeFile(path, html);
    figures.browserRenderMs = await timeBrowserRender(path);
  }
  return figures;
}

/** Milliseconds from navigation start until the page has drawn everything. */
async function timeBrowserRender(path: string): Promise<number> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const startMs = performance.now();
    await page.goto(pathToFileURL(path).href);
    await page.waitForSelector('body[data-rendered="true"]', { timeout: 120_000 });
    return Math.round(performance.now() - startMs);
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), 'traft-bench-report-'));
  try {
    const results: Figures[] = [];
    for (const clientOpCount of [5_000, 50_000]) {
      const figures = await measure(clientOpCount, folder);
      results.push(figures);
      const browser = figures.browserRenderMs === undefined ? 'no chromium' : `browser render ${figures.browserRenderMs} ms`;
      console.log(`report ${figures.opCount} ops: data ${figures.buildDataMs} ms, html ${figures.renderHtmlMs} ms, ` +
        `${(figures.htmlBytes / 1e6).toFixed(1)} MB, ${browser}`);
    }
    await mkdir('bench/results', { recursive: true });
    await writeFile('bench/results/report.json', `${JSON.stringify({ node: process.version, results }, null, 2)}\n`);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`report benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
