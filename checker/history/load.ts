// Loading a history file in any supported format, with format detection and validation.
import { extname } from 'node:path';
import { readEdnHistory } from './edn.js';
import { HistoryFormatError } from './errors.js';
import { readJepsenLogHistory } from './jepsen-log.js';
import { forEachJsonlOp, openForReading, type LocatedOp } from './jsonl.js';
import type { Op } from './types.js';
import { validateWellFormed } from './wellformed.js';

export { validateWellFormed } from './wellformed.js';

export type HistoryFormat = 'jsonl' | 'edn' | 'jepsen-log';

export const HISTORY_FORMATS: readonly HistoryFormat[] = ['jsonl', 'edn', 'jepsen-log'];

/** A loaded history with the line of each op and the format it was read as. */
export interface LoadedHistory {
  ops: Op[];
  lines: number[];
  format: HistoryFormat;
}

/** Bytes read from the start of a file to guess its format and to tell text from binary data. */
const SNIFF_BYTES = 4096;

/**
 * Guesses the format: `.jsonl`/`.json` is JSONL, `.edn` is EDN, `.log` is a Jepsen log; other
 * extensions are decided by the first non-blank, non-comment line.
 */
export async function detectFormat(path: string): Promise<HistoryFormat> {
  switch (extname(path).toLowerCase()) {
    case '.jsonl':
    case '.json':
      return 'jsonl';
    case '.edn':
      return 'edn';
    case '.log':
      return 'jepsen-log';
  }
  const head = await readHead(path);
  const firstLine = head.split('\n').map((line) => line.trim()).find((line) => line.length > 0 && !line.startsWith(';'));
  if (firstLine === undefined) return 'jsonl';
  if (firstLine.startsWith('{"') || firstLine.startsWith('{ "')) return 'jsonl';
  if (firstLine.startsWith('{') || firstLine.startsWith('[') || firstLine.startsWith('(') || firstLine.startsWith('#')) return 'edn';
  if (/jepsen\.util\s+-/.test(head)) return 'jepsen-log';
  throw new HistoryFormatError(path, 0, 'cannot tell the history format; pass --format jsonl, edn or jepsen-log');
}

/**
 * Throws when the start of the file is not UTF-8 text: a NUL byte or an invalid UTF-8 sequence
 * means binary data, which no history format allows. Without this, a Jepsen log reader would skip
 * every binary line as noise and report an empty, valid history.
 */
async function rejectBinary(path: string): Promise<void> {
  const head = await readHeadBytes(path);
  let text = true;
  try {
    // `stream: true` keeps a multi-byte character cut at the end of the sample from counting as invalid.
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
  } catch {
    text = false;
  }
  if (!text || head.includes(0)) {
    throw new HistoryFormatError(path, 0, 'contains binary data, not UTF-8 text; pass a JSONL, EDN or Jepsen log history');
  }
}

async function readHead(path: string): Promise<string> {
  return (await readHeadBytes(path)).toString('utf8');
}

async function readHeadBytes(path: string): Promise<Buffer> {
  const handle = await openForReading(path);
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new HistoryFormatError(path, 0, `cannot read the file (${code}); pass a history file or a folder of them`);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Loads and validates a history, keeping line numbers; throws HistoryFormatError on bad input. */
export async function loadHistoryWithLines(path: string, format?: HistoryFormat): Promise<LoadedHistory> {
  await rejectBinary(path);
  const chosen = format ?? (await detectFormat(path));
  let located: LocatedOp[];
  switch (chosen) {
    case 'jsonl': {
      // The common and largest format skips the LocatedOp wrappers.
      const ops: Op[] = [];
      const lines: number[] = [];
      await forEachJsonlOp(path, (op, line) => {
        ops.push(op);
        lines.push(line);
      });
      validateWellFormed(ops, { file: path, lines });
      return { ops, lines, format: chosen };
    }
    case 'edn':
      located = await readEdnHistory(path);
      break;
    case 'jepsen-log':
      located = await readJepsenLogHistory(path);
      break;
    default: {
      const unknownFormat: never = chosen;
      throw new HistoryFormatError(path, 0, `unknown format ${JSON.stringify(unknownFormat)}; use jsonl, edn or jepsen-log`);
    }
  }
  const ops = located.map((entry) => entry.op);
  const lines = located.map((entry) => entry.line);
  clampTimes(ops);
  validateWellFormed(ops, { file: path, lines });
  return { ops, lines, format: chosen };
}

/**
 * Makes times non-decreasing in history order. An imported history lists ops in the order they
 * were observed, while times taken on different threads can disagree with it by a little. The
 * order wins, so an op whose time is earlier than its predecessor's gets that time.
 */
function clampTimes(ops: Op[]): void {
  for (let position = 1; position < ops.length; position += 1) {
    const previousTimeNs = ops[position - 1]!.time;
    if (ops[position]!.time < previousTimeNs) ops[position] = { ...ops[position]!, time: previousTimeNs };
  }
}

/** Loads and validates a history (format guessed from the extension or content when absent). */
export async function loadHistory(path: string, format?: HistoryFormat): Promise<Op[]> {
  return (await loadHistoryWithLines(path, format)).ops;
}
