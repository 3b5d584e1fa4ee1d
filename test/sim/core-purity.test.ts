// server/core must stay deterministic: no I/O modules, no clock, no global randomness. The
// simulator's replay guarantee depends on it.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const coreDir = fileURLToPath(new URL('../../server/core/', import.meta.url));
const FORBIDDEN_MODULES = ['fs', 'fs/promises', 'net', 'http', 'http2', 'https', 'dgram', 'timers', 'timers/promises', 'child_process', 'worker_threads', 'cluster', 'perf_hooks'];
const FORBIDDEN_CALLS: [RegExp, string][] = [
  [/\bDate\.now\s*\(/, 'Date.now()'],
  [/\bnew\s+Date\s*\(/, 'new Date()'],
  [/\bperformance\.now\s*\(/, 'performance.now()'],
  [/\bprocess\.hrtime\b/, 'process.hrtime'],
  [/\bMath\.random\s*\(/, 'Math.random()'],
  [/\bset(?:Timeout|Interval|Immediate)\s*\(/, 'a timer'],
  [/\bprocess\.nextTick\s*\(/, 'process.nextTick()'],
];

/** Returns the module specifiers a TypeScript source imports, statically or dynamically. */
export function importedModules(source: string): string[] {
  const found: string[] = [];
  const patterns = [/\bimport\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /\bexport\s+[^'";]*?\s+from\s+['"]([^'"]+)['"]/g];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push(match[1]);
  return found;
}

function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
}

const files = readdirSync(coreDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));

t.test('core folder has sources', async (t) => {
  t.ok(files.length > 0, `expected TypeScript files in ${coreDir}`);
});

for (const file of files) {
  t.test(`core/${file} is free of I/O and clocks`, async (t) => {
    const source = stripComments(readFileSync(join(coreDir, file), 'utf8'));
    for (const specifier of importedModules(source)) {
      const bare = specifier.replace(/^node:/, '');
      t.notOk(FORBIDDEN_MODULES.includes(bare), `${file} imports ${specifier}`);
    }
    for (const [pattern, what] of FORBIDDEN_CALLS) t.notOk(pattern.test(source), `${file} uses ${what}`);
  });
}

t.test('import scanner finds forbidden imports', async (t) => {
  t.same(importedModules(`import { readFileSync } from 'node:fs';\nimport type { X } from './x.js';\nconst m = await import("net");`), ['node:fs', './x.js', 'net']);
  t.same(importedModules(`import * as cp from 'child_process'`), ['child_process']);
  t.same(importedModules(`import 'node:timers'`), ['node:timers']);
});
