// Bounded previews of arbitrary history values, so one huge value cannot bloat a report.

/** Limits of a preview; every branch of the value is cut at these. */
export interface PreviewLimits {
  stringCharsMax: number;
  arrayItemsMax: number;
  objectKeysMax: number;
  depthMax: number;
}

export const DETAILS_PREVIEW_LIMITS: PreviewLimits = { stringCharsMax: 500, arrayItemsMax: 100, objectKeysMax: 100, depthMax: 8 };

/**
 * Returns a JSON-safe copy of `value` cut to the limits. Cut arrays end with a string saying how
 * many items were left out, and values JSON cannot hold (undefined, functions, bigint) become text.
 */
export function previewJson(value: unknown, limits: PreviewLimits = DETAILS_PREVIEW_LIMITS, depth = 0): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'string') return clipText(value, limits.stringCharsMax);
  if (typeof value !== 'object') return String(value);
  if (depth >= limits.depthMax) return '…';

  if (Array.isArray(value)) {
    const items = value.slice(0, limits.arrayItemsMax).map((item) => previewJson(item, limits, depth + 1));
    if (value.length > limits.arrayItemsMax) items.push(`… ${value.length - limits.arrayItemsMax} more`);
    return items;
  }

  const entries = Object.entries(value as Record<string, unknown>);
  const copy: Record<string, unknown> = {};
  for (const [key, item] of entries.slice(0, limits.objectKeysMax)) copy[key] = previewJson(item, limits, depth + 1);
  if (entries.length > limits.objectKeysMax) copy['…'] = `${entries.length - limits.objectKeysMax} more keys`;
  return copy;
}

/** Returns `value` as compact JSON text of at most `charsMax` characters. */
export function previewText(value: unknown, charsMax: number): string {
  if (value === undefined) return '';
  const limits: PreviewLimits = { stringCharsMax: charsMax, arrayItemsMax: charsMax, objectKeysMax: charsMax, depthMax: 6 };
  return clipText(JSON.stringify(previewJson(value, limits)) ?? '', charsMax);
}

export function clipText(text: string, charsMax: number): string {
  return text.length <= charsMax ? text : `${text.slice(0, Math.max(0, charsMax - 1))}…`;
}
