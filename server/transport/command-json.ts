// Hand-written parsers for the command JSON carried in LogRecord.command_json and the JSON values
// of client requests. They accept exactly the JSON texts that parseJsonField(commandSchema, ...)
// and parseJsonField(jsonValueSchema, ...) accept, and return equal values. They walk the parsed
// value once without zod, because a follower validates every record it receives and a leader
// every value a client sends. command-json.test.ts checks the equivalence on random texts.
import type { ClusterConfig, Command, JsonValue, MicroOp, QuorumFamily } from '../core/types.js';
import { abbreviate, WireError } from './json-wire.js';

/** Largest member id, the range of the uint32 `Member.id` field. */
const MEMBER_ID_MAX = 0xffffffff;

/** Largest quorum position: positions are bits of a 64-bit mask. */
const POSITION_MAX = 63;

/** A value that does not match the command shape, at `path` (dotted, as zod reports paths). */
class InvalidCommand extends Error {
  constructor(
    readonly path: readonly (string | number)[],
    readonly expected: string,
    readonly received: unknown,
  ) {
    super(`expected ${expected}`);
  }
}

/** Parses JSON text `text` from field `field` as a Command, throwing a WireError when invalid. */
export function parseCommandJson(text: string, field: string): Command {
  return parseWith(text, field, toCommand);
}

/**
 * Parses JSON text `text` from field `field` as a JsonValue, accepting exactly what
 * parseJsonField(jsonValueSchema, ...) accepts; throws a WireError when invalid.
 */
export function parseJsonValueText(text: string, field: string): JsonValue {
  return parseWith(text, field, (raw) => jsonValueAt(raw, ROOT_PATH));
}

function parseWith<T>(text: string, field: string, convert: (raw: unknown) => T): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new WireError(`${field} is not valid JSON text: ${abbreviate(text)}`);
  }
  try {
    return convert(raw);
  } catch (error) {
    if (!(error instanceof InvalidCommand)) {
      throw error;
    }
    const where = error.path.length > 0 ? ` at ${error.path.join('.')}` : '';
    throw new WireError(`${field} is invalid${where}: expected ${error.expected}, received ${describe(error.received)}`);
  }
}

function describe(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  if (Array.isArray(value)) {
    return 'an array';
  }
  if (typeof value === 'number') {
    return `the number ${String(value)}`;
  }
  if (typeof value === 'object') {
    return 'an object';
  }
  return typeof value === 'undefined' ? 'nothing' : `a ${typeof value}`;
}

type JsonObject = { [key: string]: unknown };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectAt(value: unknown, path: readonly (string | number)[]): JsonObject {
  if (!isObject(value)) {
    throw new InvalidCommand(path, 'an object', value);
  }
  return value;
}

function stringAt(value: unknown, path: readonly (string | number)[]): string {
  if (typeof value !== 'string') {
    throw new InvalidCommand(path, 'a string', value);
  }
  return value;
}

function arrayAt(value: unknown, path: readonly (string | number)[]): unknown[] {
  if (!Array.isArray(value)) {
    throw new InvalidCommand(path, 'an array', value);
  }
  return value;
}

/** Checks a safe integer in [min, max], as zod's `z.number().int().min().max()` does. */
function integerAt(value: unknown, min: number, max: number, path: readonly (string | number)[]): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`;
    throw new InvalidCommand(path, range, value);
  }
  return value;
}

/**
 * Checks that a parsed JSON value is a JsonValue and returns it. JSON.parse yields only JSON
 * types, so the walk checks the one thing it can get wrong: a number literal too large for a
 * double (1e400) parses as Infinity. It also deletes own `__proto__` keys, because
 * jsonValueSchema's z.record (zod 4) drops them and the two parsers must return equal values.
 */
function jsonValueAt(value: unknown, path: readonly (string | number)[]): JsonValue {
  if (value === undefined) {
    throw new InvalidCommand(path, 'a JSON value', value);
  }
  const badPath = nonFinitePath(value);
  if (badPath !== null) {
    let received: unknown = value;
    for (const key of badPath) {
      received = (received as JsonObject)[key];
    }
    throw new InvalidCommand([...path, ...badPath], 'a finite number', received);
  }
  return value as JsonValue;
}

/** Returns the path of the first non-finite number inside `value`, or null when there is none. */
function nonFinitePath(value: unknown): (string | number)[] | null {
  if (typeof value === 'number') {
    return Number.isFinite(value) ? null : [];
  }
  if (typeof value !== 'object' || value === null) {
    return null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const badPath = nonFinitePath(value[i]);
      if (badPath !== null) {
        badPath.unshift(i);
        return badPath;
      }
    }
    return null;
  }
  if (Object.hasOwn(value, '__proto__')) {
    delete (value as JsonObject)['__proto__'];
  }
  for (const key in value) {
    const badPath = nonFinitePath((value as JsonObject)[key]);
    if (badPath !== null) {
      badPath.unshift(key);
      return badPath;
    }
  }
  return null;
}

// Paths of the top-level command fields, built once because every record is checked.
const KIND_PATH = ['kind'] as const;
const KEY_PATH = ['key'] as const;
const VALUE_PATH = ['value'] as const;
const EXPECTED_PATH = ['expected'] as const;
const DELTA_PATH = ['delta'] as const;
const OPS_PATH = ['ops'] as const;
const CONFIG_PATH = ['config'] as const;
const ROOT_PATH = [] as const;

function toCommand(raw: unknown): Command {
  const value = objectAt(raw, ROOT_PATH);
  const kind = value['kind'];
  switch (kind) {
    case 'noop':
      return { kind };
    case 'put':
    case 'append':
      return { kind, key: stringAt(value['key'], KEY_PATH), value: jsonValueAt(value['value'], VALUE_PATH) };
    case 'delete':
      return { kind, key: stringAt(value['key'], KEY_PATH) };
    case 'cas':
      return {
        kind,
        key: stringAt(value['key'], KEY_PATH),
        expected: jsonValueAt(value['expected'], EXPECTED_PATH),
        value: jsonValueAt(value['value'], VALUE_PATH),
      };
    case 'incr': {
      const key = stringAt(value['key'], KEY_PATH);
      const delta = value['delta'];
      if (typeof delta !== 'number' || !Number.isFinite(delta)) {
        throw new InvalidCommand(DELTA_PATH, 'a finite number', delta);
      }
      return { kind, key, delta };
    }
    case 'txn':
      return { kind, ops: arrayAt(value['ops'], OPS_PATH).map((op, i) => toMicroOp(op, ['ops', i])) };
    case 'config':
      return { kind, config: toConfig(value['config'], CONFIG_PATH) };
    default:
      throw new InvalidCommand(KIND_PATH, 'one of noop, put, delete, cas, append, incr, txn, config', kind);
  }
}

function toMicroOp(raw: unknown, path: readonly (string | number)[]): MicroOp {
  const op = objectAt(raw, path);
  const f = op['f'];
  switch (f) {
    case 'append':
      return { f, key: stringAt(op['key'], [...path, 'key']), value: jsonValueAt(op['value'], [...path, 'value']) };
    case 'r':
      return { f, key: stringAt(op['key'], [...path, 'key']) };
    default:
      throw new InvalidCommand([...path, 'f'], 'one of append, r', f);
  }
}

function toConfig(raw: unknown, path: readonly (string | number)[]): ClusterConfig {
  const config = objectAt(raw, path);
  const members = arrayAt(config['members'], [...path, 'members']).map((entry, i) => {
    const memberPath = [...path, 'members', i];
    const member = objectAt(entry, memberPath);
    return {
      id: integerAt(member['id'], 0, MEMBER_ID_MAX, [...memberPath, 'id']),
      addr: stringAt(member['addr'], [...memberPath, 'addr']),
      position: integerAt(member['position'], 0, POSITION_MAX, [...memberPath, 'position']),
    };
  });
  const families = arrayAt(config['families'], [...path, 'families']).map((entry, i) =>
    toFamily(entry, [...path, 'families', i]),
  );
  return { members, families };
}

function positionsAt(raw: unknown, path: readonly (string | number)[]): number[] {
  return arrayAt(raw, path).map((position, i) => integerAt(position, 0, POSITION_MAX, [...path, i]));
}

function thresholdAt(raw: unknown, path: readonly (string | number)[]): number {
  return integerAt(raw, 0, Number.MAX_SAFE_INTEGER, path);
}

function toFamily(raw: unknown, path: readonly (string | number)[]): QuorumFamily {
  const family = objectAt(raw, path);
  const kind = family['kind'];
  switch (kind) {
    case 'threshold':
      return {
        kind,
        positions: positionsAt(family['positions'], [...path, 'positions']),
        threshold: thresholdAt(family['threshold'], [...path, 'threshold']),
      };
    case 'weighted': {
      const weights = arrayAt(family['weights'], [...path, 'weights']).map((entry, i) => {
        const weightPath = [...path, 'weights', i];
        const weight = objectAt(entry, weightPath);
        return {
          position: integerAt(weight['position'], 0, POSITION_MAX, [...weightPath, 'position']),
          weight: thresholdAt(weight['weight'], [...weightPath, 'weight']),
        };
      });
      return { kind, weights, threshold: thresholdAt(family['threshold'], [...path, 'threshold']) };
    }
    case 'explicit':
      return {
        kind,
        quorums: arrayAt(family['quorums'], [...path, 'quorums']).map((quorum, i) =>
          positionsAt(quorum, [...path, 'quorums', i]),
        ),
      };
    default:
      throw new InvalidCommand([...path, 'kind'], 'one of threshold, weighted, explicit', kind);
  }
}
