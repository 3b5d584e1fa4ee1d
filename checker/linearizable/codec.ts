// A columnar encoding of per-key op pairs for worker threads. Structured cloning a million op
// objects costs seconds; typed arrays and one JSON string of values cost a fraction of that.
import type { Op, OpType } from '../history/types.js';
import type { OpPair } from './pairs.js';

const COMPLETION_TYPES: readonly OpType[] = ['ok', 'fail', 'info'];

export interface EncodedKeys {
  keys: string[];
  pairCounts: Int32Array;
  /** Per pair: invocation index, time, process and position; completion index, time, position. */
  numbers: Float64Array;
  /** Per pair: index into `functions`, completion type (-1 none, else COMPLETION_TYPES index), key present. */
  codes: Int32Array;
  functions: string[];
  /** JSON array: invocation value and completion value of each pair; undefined is sent as null. */
  valuesJson: string;
  /** JSON array of [pair, invocation error, completion error] for pairs with errors. */
  errorsJson: string;
}

const NUMBERS_PER_PAIR = 7;
const CODES_PER_PAIR = 3;

export function encodeKeys(keys: ReadonlyArray<readonly [string, readonly OpPair[]]>): EncodedKeys {
  const total = keys.reduce((sum, [, pairs]) => sum + pairs.length, 0);
  const numbers = new Float64Array(total * NUMBERS_PER_PAIR);
  const codes = new Int32Array(total * CODES_PER_PAIR);
  const functionIds = new Map<string, number>();
  const functions: string[] = [];
  const values: unknown[] = new Array(total * 2);
  const errors: Array<[number, string | null, string | null]> = [];
  const pairCounts = new Int32Array(keys.length);

  let p = 0;
  keys.forEach(([, pairs], keyIndex) => {
    pairCounts[keyIndex] = pairs.length;
    for (const pair of pairs) {
      const { invoke, completion } = pair;
      let fId = functionIds.get(invoke.f);
      if (fId === undefined) {
        fId = functions.length;
        functionIds.set(invoke.f, fId);
        functions.push(invoke.f);
      }
      const n = p * NUMBERS_PER_PAIR;
      numbers[n] = invoke.index;
      numbers[n + 1] = invoke.time;
      numbers[n + 2] = invoke.process as number;
      numbers[n + 3] = pair.callPosition;
      numbers[n + 4] = completion?.index ?? -1;
      numbers[n + 5] = completion?.time ?? -1;
      numbers[n + 6] = pair.returnPosition;
      const c = p * CODES_PER_PAIR;
      codes[c] = fId;
      codes[c + 1] = completion === undefined ? -1 : COMPLETION_TYPES.indexOf(completion.type);
      codes[c + 2] = invoke.key === undefined ? 0 : 1;
      values[2 * p] = invoke.value ?? null;
      values[2 * p + 1] = completion?.value ?? null;
      if (invoke.error !== undefined || completion?.error !== undefined) errors.push([p, invoke.error ?? null, completion?.error ?? null]);
      p += 1;
    }
  });
  return {
    keys: keys.map(([key]) => key),
    pairCounts,
    numbers,
    codes,
    functions,
    valuesJson: JSON.stringify(values),
    errorsJson: JSON.stringify(errors),
  };
}

export function decodeKeys(encoded: EncodedKeys): Array<[string, OpPair[]]> {
  const values = JSON.parse(encoded.valuesJson) as unknown[];
  const errors = new Map<number, [string | null, string | null]>();
  for (const [pair, invokeError, completionError] of JSON.parse(encoded.errorsJson) as Array<[number, string | null, string | null]>) {
    errors.set(pair, [invokeError, completionError]);
  }
  const { numbers, codes } = encoded;
  const result: Array<[string, OpPair[]]> = [];
  let p = 0;
  encoded.keys.forEach((key, keyIndex) => {
    const pairs: OpPair[] = [];
    for (let i = 0; i < encoded.pairCounts[keyIndex]!; i += 1, p += 1) {
      const n = p * NUMBERS_PER_PAIR;
      const c = p * CODES_PER_PAIR;
      const f = encoded.functions[codes[c]!]!;
      const process = numbers[n + 2]!;
      const pairErrors = errors.get(p);
      const invoke: Op = { index: numbers[n]!, time: numbers[n + 1]!, process, type: 'invoke', f };
      if (codes[c + 2] === 1) invoke.key = key;
      invoke.value = values[2 * p];
      if (pairErrors?.[0] != null) invoke.error = pairErrors[0];
      const pair: OpPair = { invoke, callPosition: numbers[n + 3]!, returnPosition: numbers[n + 6]! };
      if (codes[c + 1]! >= 0) {
        const completion: Op = { index: numbers[n + 4]!, time: numbers[n + 5]!, process, type: COMPLETION_TYPES[codes[c + 1]!]!, f };
        if (invoke.key !== undefined) completion.key = key;
        completion.value = values[2 * p + 1];
        if (pairErrors?.[1] != null) completion.error = pairErrors[1];
        pair.completion = completion;
      }
      pairs.push(pair);
    }
    result.push([key, pairs]);
  });
  return result;
}
