// The TRaft core must stay pure: no I/O, no clocks, no timers, no ambient randomness. This test
// scans every non-test source file under server/core for imports and globals that would break that.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const CORE_DIR = fileURLToPath(new URL('../server/core/', import.meta.url));

const FORBIDDEN_MODULES = [
  'fs',
  'net',
  'http',
  'http2',
  'https',
  'dgram',
  'timers',
  'child_process',
  'worker_threads',
  'crypto',
  'os',
  'process',
];

const FORBIDDEN_GLOBALS: { name: string; pattern: RegExp }[] = [
  { name: 'Date.now', pattern: /\bDate\s*\.\s*now\b/ },
  { name: 'new Date', pattern: /\bnew\s+Date\b/ },
  { name: 'performance.now', pattern: /\bperformance\s*\.\s*now\b/ },
  { name: 'Math.random', pattern: /\bMath\s*\.\s*random\b/ },
  { name: 'setTimeout', pattern: /\bsetTimeout\b/ },
  { name: 'setInterval', pattern: /\bsetInterval\b/ },
  { name: 'setImmediate', pattern: /\bsetImmediate\b/ },
  { name: 'process.hrtime', pattern: /\bprocess\s*\.\s*hrtime\b/ },
  { name: 'queueMicrotask', pattern: /\bqueueMicrotask\b/ },
];

/** Returns the source with comments removed and string contents blanked, keeping line breaks. */
export function stripCommentsAndStrings(source: string): string {
  let out = '';
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      i += 2;
      while (i < source.length && !(source[i] === '*' && source[i + 1] === '/')) {
        if (source[i] === '\n') out += '\n';
        i++;
      }
      i += 2;
    } else if (c === '"' || c === "'" || c === '`') {
      out += c;
      i++;
      while (i < source.length && source[i] !== c) {
        if (source[i] === '\\') i++;
        else if (source[i] === '\n') out += '\n';
        i++;
      }
      out += c;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Returns the module specifiers of static imports, re-exports, dynamic imports and requires. */
export function importedModules(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const patterns = [
    /\b(?:import|export)\s[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  const modules: string[] = [];
  for (const pattern of patterns) {
    for (const match of code.matchAll(pattern)) modules.push(match[1]);
  }
  return modules;
}

function isForbiddenModule(specifier: string): boolean {
  const bare = specifier.replace(/^node:/, '');
  return FORBIDDEN_MODULES.some((name) => bare === name || bare.startsWith(`${name}/`));
}

/** Lists every impurity in a source text, one line each. */
export function findImpurities(source: string): string[] {
  const problems: string[] = [];
  for (const specifier of importedModules(source)) {
    if (isForbiddenModule(specifier)) problems.push(`imports ${specifier}`);
  }
  const code = stripCommentsAndStrings(source);
  for (const { name, pattern } of FORBIDDEN_GLOBALS) {
    if (pattern.test(code)) problems.push(`uses ${name}`);
  }
  return problems;
}

function coreSourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...coreSourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) files.push(path);
  }
  return files;
}

t.test('scanner flags forbidden imports', async (t) => {
  const cases: [string, string[]][] = [
    ["import { readFileSync } from 'fs';", ['imports fs']],
    ["import fs from 'node:fs/promises';", ['imports node:fs/promises']],
    ["import * as os from 'os';", ['imports os']],
    ['import { randomBytes } from "node:crypto";', ['imports node:crypto']],
    ["import {\n  spawn,\n} from 'child_process';", ['imports child_process']],
    ["export { setTimeout as sleep } from 'timers/promises';", ['imports timers/promises', 'uses setTimeout']],
    ["const net = await import('node:net');", ['imports node:net']],
    ["const http = require('http');", ['imports http']],
    ["import 'worker_threads';", ['imports worker_threads']],
    ["import process from 'node:process';", ['imports node:process']],
    ["import { x } from './fs.js';", []],
    ["import assert from 'node:assert';", []],
    ["import type { Ballot } from './types.js';", []],
  ];
  for (const [source, expected] of cases) t.same(findImpurities(source), expected, source);
});

t.test('scanner flags clocks timers and randomness', async (t) => {
  const cases: [string, string[]][] = [
    ['const now = Date.now();', ['uses Date.now']],
    ['const d = new Date();', ['uses new Date']],
    ['const x = performance.now();', ['uses performance.now']],
    ['const r = Math.random();', ['uses Math.random']],
    ['setTimeout(() => {}, 5);', ['uses setTimeout']],
    ['const h = setInterval(f, 1);', ['uses setInterval']],
    ['setImmediate(f);', ['uses setImmediate']],
    ['const t0 = process.hrtime.bigint();', ['uses process.hrtime']],
    ['queueMicrotask(f);', ['uses queueMicrotask']],
    ['// Date.now() is not used here', []],
    ['/* Math.random */ const a = 1;', []],
    ["const message = 'never call setTimeout';", []],
    ['const updatedAt = tick;', []],
    ['const mySetTimeout = 1;', []],
  ];
  for (const [source, expected] of cases) t.same(findImpurities(source), expected, source);
});

t.test('server/core files are pure', async (t) => {
  const files = coreSourceFiles(CORE_DIR);
  t.ok(files.length > 0, 'found source files under server/core');
  for (const file of files) {
    const problems = findImpurities(readFileSync(file, 'utf8'));
    t.same(problems, [], `server/core/${relative(CORE_DIR, file)}`);
  }
});
