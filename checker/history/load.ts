// Loading a history file in any supported format, with format detection and validation.
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { readEdnHistory } from './edn.js';
import { HistoryFormatError } from './errors.js';
import { readJepsenLogHistory } from './jepsen-log.js';
import { forEachJsonlOp, type LocatedOp } from './jsonl.js';
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

/** Bytes read from the start of a file to guess its format. */
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

async function readHead(path: string): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new HistoryFormatError(path, 0, `cannot open the file (${code}); check the path and permissions`);
  }
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new HistoryFormatError(path, 0, `cannot read the file (${code}); pass a history file or a folder of them`);
  } finally {
    await handle.close();
  }
}

/** Loads and validates a history, keeping line numbers; throws HistoryFormatError on bad input. */
export async function loadHistoryWithLines(path: string, format?: HistoryFormat): Promise<LoadedHistory> {
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
  validateWellFormed(ops, { file: path, lines });
  return { ops, lines, format: chosen };
}

/** Loads and validates a history (format guessed from the extension or content when absent). */
export async function loadHistory(path: string, format?: HistoryFormat): Promise<Op[]> {
  return (await loadHistoryWithLines(path, format)).ops;
}
