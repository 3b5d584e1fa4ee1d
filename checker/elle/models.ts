// Mapping from anomaly kinds to the consistency models they rule out.
import { CONSISTENCY_MODELS, type ConsistencyModel } from './types.js';

/** The weakest model each base anomaly kind rules out; a kind also rules out every stronger model. */
const WEAKEST_RULED_OUT: Record<string, ConsistencyModel> = {
  // Without a total version order per key, or with txns that contradict themselves, no isolation level applies.
  'incompatible-order': 'read-uncommitted',
  'duplicate-elements': 'read-uncommitted',
  'garbage-read': 'read-uncommitted',
  internal: 'read-uncommitted',
  // Adya's PL-1 forbids G0 (write cycles); PL-2 (read committed) forbids all of G1.
  G0: 'read-uncommitted',
  G1a: 'read-committed',
  G1b: 'read-committed',
  G1c: 'read-committed',
  'dirty-update': 'read-committed',
  // Snapshot isolation allows a dependency cycle only when two of its anti-dependency (rw) edges are
  // consecutive, and serializability allows none.
  'G-single': 'snapshot-isolation',
  'G-nonadjacent': 'snapshot-isolation',
  'G2-item': 'serializable',
  // A committed append that a read invoked after it completed still misses breaks real-time order only.
  'lost-append': 'strict-serializable',
};

export function modelIndex(model: ConsistencyModel): number {
  return CONSISTENCY_MODELS.indexOf(model);
}

/**
 * Returns the weakest model `kind` rules out. A `-process` cycle needs process order, which
 * strong-session-serializable adds to serializable. A `-realtime` cycle needs real-time order, which
 * only strict-serializable adds.
 */
export function weakestRuledOut(kind: string): ConsistencyModel {
  if (kind.endsWith('-realtime')) return 'strict-serializable';
  if (kind.endsWith('-process')) return 'strong-session-serializable';
  const model = WEAKEST_RULED_OUT[kind];
  if (model === undefined) throw new Error(`anomaly kind ${kind} has no consistency model mapping`);
  return model;
}

/** Lists every model `kind` rules out, weakest first. */
export function modelsRuledOut(kind: string): ConsistencyModel[] {
  return CONSISTENCY_MODELS.slice(modelIndex(weakestRuledOut(kind)));
}

/** Parses a --consistency value; returns undefined for an unknown name. */
export function parseConsistencyModel(name: string): ConsistencyModel | undefined {
  return (CONSISTENCY_MODELS as readonly string[]).includes(name) ? (name as ConsistencyModel) : undefined;
}
