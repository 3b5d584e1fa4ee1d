// Jepsen `history.edn` import and EDN export. The file is split into top-level op maps by a small
// scanner (so each op keeps its line number), and each map is parsed with edn-data.
import { readFile, writeFile } from 'node:fs/promises';
import { parseEDNString } from 'edn-data';
import { HistoryFormatError } from './errors.js';
import { opTypeSchema } from './schema.js';
import { DEFAULT_KEY } from './jepsen-log.js';
import type { LocatedOp } from './jsonl.js';
import type { Op, ProcessId } from './types.js';

/** Source text of one top-level form and the 1-based line where it starts. */
interface FormText {
  text: string;
  line: number;
}

const EDN_PARSE_OPTIONS = {
  mapAs: 'object',
  keywordAs: 'string',
  listAs: 'array',
  setAs: 'array',
  charAs: 'string',
  symbolAs: 'string',
} as const;

/** Reads a Jepsen EDN history: a vector or list of op maps, or op maps one after another. */
export async function readEdnHistory(path: string): Promise<LocatedOp[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new HistoryFormatError(path, 0, `cannot read the file (${code}); check the path and permissions`);
  }
  return parseEdnHistory(path, text);
}

/** Parses EDN history text; `file` only names the source in error messages. */
export function parseEdnHistory(file: string, text: string): LocatedOp[] {
  const located: LocatedOp[] = [];
  for (const form of splitTopLevelForms(file, text)) {
    located.push({ op: ednMapToOp(file, form, located.length), line: form.line });
  }
  splitIndependentTuples(located);
  for (const { op } of located) {
    // Single-register Jepsen histories carry no key; they all use one shared key.
    if (op.key === undefined && op.process !== 'nemesis') op.key = DEFAULT_KEY;
  }
  return located;
}

/**
 * Finds the op maps of an EDN history. When the first form is a vector or list, the maps are its
 * elements; otherwise the file is a sequence of maps. Strings, comments, character literals and
 * record tags such as `#jepsen.history.Op{...}` are handled.
 */
function splitTopLevelForms(file: string, text: string): FormText[] {
  const forms: FormText[] = [];
  let line = 1;
  let depth = 0;
  let mapDepth = -1;
  let formStart = -1;
  let formLine = 0;
  // The bracket and line of every form still open, so an unclosed one can be named at the end.
  const openers: Array<{ bracket: string; line: number }> = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line += 1;
      i += 1;
      continue;
    }
    if (c === ';') {
      while (i < text.length && text[i] !== '\n') i += 1;
      continue;
    }
    if (c === '"') {
      i += 1;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') i += 1;
        else if (text[i] === '\n') line += 1;
        i += 1;
      }
      if (i >= text.length) throw new HistoryFormatError(file, line, 'unterminated string; the EDN file is truncated');
      i += 1;
      continue;
    }
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === '[' || c === '(' || c === '{') {
      if (mapDepth < 0) {
        // The first opening bracket fixes the level at which op maps sit.
        mapDepth = c === '{' ? 0 : 1;
      }
      if (depth === mapDepth) {
        if (c !== '{') throw new HistoryFormatError(file, line, `expected an op map "{...}" but found "${c}"`);
        formStart = tagStart(text, i);
        formLine = line;
      }
      depth += 1;
      openers.push({ bracket: c, line });
      i += 1;
      continue;
    }
    if (c === ']' || c === ')' || c === '}') {
      depth -= 1;
      openers.pop();
      if (depth < 0) throw new HistoryFormatError(file, line, `unbalanced "${c}"`);
      if (depth === mapDepth && formStart >= 0) {
        forms.push({ text: text.slice(formStart, i + 1), line: formLine });
        formStart = -1;
      }
      i += 1;
      continue;
    }
    i += 1;
  }
  const unclosed = openers[openers.length - 1];
  if (unclosed !== undefined) {
    throw new HistoryFormatError(file, unclosed.line, `"${unclosed.bracket}" is never closed; the EDN file is truncated or misses a closing bracket`);
  }
  return forms;
}

/** Includes a record tag like `#jepsen.history.Op` written right before `{` in the form. */
function tagStart(text: string, braceAt: number): number {
  let j = braceAt - 1;
  while (j >= 0 && /[\w.\-/$]/.test(text[j]!)) j -= 1;
  return j >= 0 && text[j] === '#' && j < braceAt - 1 ? j : braceAt;
}

function ednMapToOp(file: string, form: FormText, position: number): Op {
  const mapText = form.text.startsWith('#') ? form.text.slice(form.text.indexOf('{')) : form.text;
  let parsed: unknown;
  try {
    parsed = parseEDNString(mapText, EDN_PARSE_OPTIONS);
  } catch (error) {
    throw new HistoryFormatError(file, form.line, `invalid EDN op map (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new HistoryFormatError(file, form.line, 'invalid EDN op map; expected {:type ... :f ... :process ...}');
  }
  const fields = parsed as Record<string, unknown>;

  const type = opTypeSchema.safeParse(fields['type']);
  if (!type.success) {
    throw new HistoryFormatError(file, form.line, `unknown op type ${JSON.stringify(fields['type'])}; expected :invoke, :ok, :fail or :info`);
  }
  const f = fields['f'];
  if (typeof f !== 'string' || f.length === 0) {
    throw new HistoryFormatError(file, form.line, `missing or invalid :f ${JSON.stringify(f)}; expected a keyword such as :read`);
  }
  const op: Op = {
    index: integerField(file, form, fields, 'index') ?? position,
    time: integerField(file, form, fields, 'time') ?? position,
    process: processField(file, form, fields['process']),
    type: type.data,
    f,
  };
  if (fields['key'] !== undefined && fields['key'] !== null) op.key = String(fields['key']);
  if ('value' in fields) op.value = fields['value'];
  if (fields['error'] !== undefined && fields['error'] !== null) {
    op.error = typeof fields['error'] === 'string' ? fields['error'] : JSON.stringify(fields['error']);
  }
  return op;
}

function integerField(file: string, form: FormText, fields: Record<string, unknown>, name: string): number | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new HistoryFormatError(file, form.line, `invalid :${name} ${JSON.stringify(value)}; expected a non-negative integer`);
  }
  return value;
}

function processField(file: string, form: FormText, value: unknown): ProcessId {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  if (value === 'nemesis') return 'nemesis';
  throw new HistoryFormatError(file, form.line, `invalid :process ${JSON.stringify(value)}; expected a non-negative integer or :nemesis`);
}

/**
 * Moves Jepsen `independent` tuples into `key`: when no op has a `:key` and every client op's
 * value is a `[key value]` pair (with cas values `[key [expected new]]`), the pair is split.
 * A plain register history never qualifies, because its read invocations carry `nil`.
 */
function splitIndependentTuples(located: LocatedOp[]): void {
  const clientOps = located.filter((entry) => entry.op.process !== 'nemesis').map((entry) => entry.op);
  if (clientOps.length === 0) return;
  const allTuples = clientOps.every((op) => {
    if (op.key !== undefined || !Array.isArray(op.value) || op.value.length !== 2) return false;
    // A list-append txn of two micro-ops also has a two-element value; it is not a tuple.
    if (op.f === 'txn') return false;
    if (op.f === 'cas') return Array.isArray(op.value[1]) && op.value[1].length === 2;
    return true;
  });
  if (!allTuples) return;
  for (const op of clientOps) {
    const [key, value] = op.value as [unknown, unknown];
    op.key = typeof key === 'string' ? key : JSON.stringify(key);
    op.value = value;
  }
}

/** Formats one JSON value as EDN; object keys become keywords. */
export function toEdnValue(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(toEdnValue).join(' ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).map(([key, item]) => `:${key} ${toEdnValue(item)}`);
    return `{${entries.join(', ')}}`;
  }
  throw new TypeError(`cannot format ${typeof value} as EDN`);
}

/** Formats one op as a Jepsen-style EDN map with keyword type, f and (for nemesis) process. */
export function opToEdn(op: Op): string {
  const parts = [
    `:index ${op.index}`,
    `:time ${op.time}`,
    `:process ${op.process === 'nemesis' ? ':nemesis' : op.process}`,
    `:type :${op.type}`,
    `:f :${op.f}`,
  ];
  if (op.key !== undefined) parts.push(`:key ${JSON.stringify(op.key)}`);
  if (op.value !== undefined) parts.push(`:value ${op.f === 'txn' ? txnToEdn(op.value) : toEdnValue(op.value)}`);
  if (op.error !== undefined) parts.push(`:error ${JSON.stringify(op.error)}`);
  return `{${parts.join(', ')}}`;
}

/**
 * Formats a list-append txn value with keyword micro-op functions (`[[:append 3 5] [:r 4 nil]]`), the
 * form Elle reads. Anything else is formatted as plain EDN.
 */
function txnToEdn(value: unknown): string {
  if (!Array.isArray(value)) return toEdnValue(value);
  const microOps = value.map((micro: unknown) => {
    if (!Array.isArray(micro) || (micro[0] !== 'append' && micro[0] !== 'r')) return toEdnValue(micro);
    return `[:${micro[0] as string} ${micro.slice(1).map(toEdnValue).join(' ')}]`;
  });
  return `[${microOps.join(' ')}]`;
}

/** Writes ops as an EDN vector, one op map per line, readable by Jepsen-family tools. */
export async function writeEdnHistory(path: string, ops: Iterable<Op>): Promise<void> {
  const lines: string[] = [];
  for (const op of ops) lines.push(opToEdn(op));
  await writeFile(path, `[${lines.join('\n ')}]\n`, 'utf8');
}
