// Fault bands: spans of the run during which a nemesis fault was (or may have been) in effect.
import type { OpPair } from '../checker/op-pairs.js';
import type { FaultBand } from './types.js';
import { clipText, previewText } from './preview.js';

/** The nemesis f that starts a fault, mapped to the f that ends it. */
const FAULT_ENDS: Record<string, string> = { kill: 'restart', pause: 'resume', partition: 'heal', stop: 'start' };

const TARGETS_CHARS_MAX = 160;

interface OpenFault {
  band: FaultBand;
  targets: string[] | undefined;
}

/**
 * Builds fault bands from nemesis op pairs. A band runs from the fault's invocation to the
 * completion of the op that ends it, which over-covers rather than under-covers the fault. An
 * ending op with targets ends only the open faults sharing a target; one without ends them all.
 * Faults still open when the history ends get `healed: false` and end at `historyEndNs`.
 */
export function buildFaultBands(nemesisPairs: readonly OpPair[], historyEndNs: number): FaultBand[] {
  const bands: FaultBand[] = [];
  const open: OpenFault[] = [];
  const endingFs = new Map(Object.entries(FAULT_ENDS).map(([start, end]) => [end, start]));

  for (const { invoke, completion } of nemesisPairs) {
    const value = completion?.value ?? invoke.value;

    if (FAULT_ENDS[invoke.f] !== undefined) {
      const band: FaultBand = {
        f: invoke.f,
        startNs: invoke.time,
        endNs: historyEndNs,
        healed: false,
        targets: describeTargets(value),
        startIndex: invoke.index,
        error: completion?.error,
      };
      bands.push(band);
      open.push({ band, targets: targetsOf(value) });
      continue;
    }

    const startF = endingFs.get(invoke.f);
    if (startF === undefined) continue;
    const endTargets = targetsOf(value);
    for (let i = open.length - 1; i >= 0; i--) {
      const fault = open[i];
      if (fault.band.f !== startF || !sharesTarget(fault.targets, endTargets)) continue;
      fault.band.endNs = completion?.time ?? invoke.time;
      fault.band.healed = true;
      fault.band.endIndex = completion?.index ?? invoke.index;
      fault.band.endF = invoke.f;
      open.splice(i, 1);
    }
  }
  return bands;
}

/** Node ids a nemesis value names: a list, a single id, or a `targets`/`nodes` field holding either. */
export function targetsOf(value: unknown): string[] | undefined {
  if (typeof value === 'number' || typeof value === 'string') return [String(value)];
  if (Array.isArray(value)) {
    if (value.every((item) => typeof item === 'number' || typeof item === 'string')) return value.map(String);
    // A list of groups, as in a partition's sides.
    if (value.every(Array.isArray)) return value.flat().map(String);
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    for (const field of ['targets', 'nodes', 'node']) {
      if (record[field] !== undefined) return targetsOf(record[field]);
    }
  }
  return undefined;
}

/** Returns "nodes 1, 3" plus a partition shape when the value names them, else the value as JSON. */
function describeTargets(value: unknown): string {
  const targets = targetsOf(value);
  if (targets === undefined) return previewText(value, TARGETS_CHARS_MAX);
  const shape = typeof value === 'object' && value !== null ? (value as { shape?: unknown }).shape : undefined;
  const text = `node${targets.length === 1 ? '' : 's'} ${targets.join(', ')}${typeof shape === 'string' ? ` (${shape})` : ''}`;
  return clipText(text, TARGETS_CHARS_MAX);
}

/** True when either side names no targets (meaning all) or both share one. */
function sharesTarget(faultTargets: string[] | undefined, endTargets: string[] | undefined): boolean {
  if (faultTargets === undefined || endTargets === undefined || endTargets.length === 0) return true;
  return endTargets.some((target) => faultTargets.includes(target));
}
