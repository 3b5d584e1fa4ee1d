// Import of Jepsen log output lines such as `INFO  jepsen.util - 3\t:ok\t:cas\t[1 4]`.
import { parseEDNString } from 'edn-data';
import { HistoryFormatError } from './errors.js';
import { openForReading, type LocatedOp } from './jsonl.js';
import { createInterface } from 'node:readline';
import type { Op, OpType, ProcessId } from './types.js';

// Group 1 is the process, 2 the type, 3 the function and 4 the value text.
const OP_LINE = /jepsen\.util\s+-\s+(\d+|:nemesis)\s+:(invoke|ok|fail|info)\s+:([\w.\-?!*+]+)(?:\s+(.*?))?\s*$/;

/** Key given to ops of single-register logs, which carry no key. */
export const DEFAULT_KEY = '0';

/**
 * Reads a Jepsen log, streaming it line by line. Lines that are not op lines are log noise and
 * are skipped. Completions whose value is a keyword such as `:timed-out` are indeterminate: they
 * become `info` with that keyword as the error and the invocation's value. Ops use time = line
 * number, because the log carries no clock.
 */
export async function readJepsenLogHistory(path: string): Promise<LocatedOp[]> {
  const handle = await openForReading(path);
  const lines = createInterface({ input: handle.createReadStream({ encoding: 'utf8' }), crlfDelay: Infinity });
  const located: LocatedOp[] = [];
  const pendingValue = new Map<ProcessId, unknown>();
  let lineNumber = 0;
  try {
    for await (const text of lines) {
      lineNumber += 1;
      const match = OP_LINE.exec(text);
      if (match === null) continue;
      const op = lineToOp(path, lineNumber, located.length, match, pendingValue);
      located.push({ op, line: lineNumber });
    }
  } finally {
    lines.close();
    await handle.close().catch(() => undefined);
  }
  return located;
}

function lineToOp(
  path: string,
  lineNumber: number,
  position: number,
  match: RegExpExecArray,
  pendingValue: Map<ProcessId, unknown>,
): Op {
  const process: ProcessId = match[1] === ':nemesis' ? 'nemesis' : Number(match[1]);
  let type = match[2] as OpType;
  const f = match[3]!;
  const valueText = match[4] ?? 'nil';
  let value = parseLogValue(path, lineNumber, valueText);
  let error: string | undefined;

  if (type === 'invoke') {
    pendingValue.set(process, value);
  } else {
    // A bare keyword in a completion is an error such as :timed-out, not a result.
    if (valueText.startsWith(':')) {
      error = valueText.slice(1);
      value = pendingValue.get(process) ?? null;
      if (type === 'fail') type = 'info';
    }
    pendingValue.delete(process);
  }

  const op: Op = { index: position, time: lineNumber, process, type, f, value };
  if (process !== 'nemesis') op.key = DEFAULT_KEY;
  if (error !== undefined) op.error = error;
  return op;
}

function parseLogValue(path: string, lineNumber: number, valueText: string): unknown {
  try {
    return parseEDNString(valueText, { mapAs: 'object', keywordAs: 'string', listAs: 'array', setAs: 'array' });
  } catch (error) {
    throw new HistoryFormatError(path, lineNumber, `invalid value ${JSON.stringify(valueText)} (${(error as Error).message})`);
  }
}
