// A deep copy of protocol values (messages, persist ops) that keeps TailBitmap instances. It is
// the fast stand-in for an encode/decode round trip: the receiver gets objects it does not share
// with the sender, which is what the simulator needs from a wire or a disk.
import { TailBitmap } from '../core/bitmap.js';

export function deepCopy<T>(value: T): T {
  return copyValue(value) as T;
}

function copyValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof TailBitmap) return value.clone();
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyValue(value[i]);
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const key in value) out[key] = copyValue((value as Record<string, unknown>)[key]);
  return out;
}
