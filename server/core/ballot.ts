// Ballot ordering: by term, then by replica id. A missing ballot compares as (0,0).
import type { Ballot } from './types.js';

export const ZERO_BALLOT: Ballot = Object.freeze({ term: 0, id: 0 });

/** Returns a negative number, 0 or a positive number as a orders before, equal to or after b. */
export function compareBallots(a: Ballot | null | undefined, b: Ballot | null | undefined): number {
  const left = a ?? ZERO_BALLOT;
  const right = b ?? ZERO_BALLOT;
  if (left.term !== right.term) return left.term < right.term ? -1 : 1;
  if (left.id !== right.id) return left.id < right.id ? -1 : 1;
  return 0;
}

export function ballotLess(a: Ballot | null | undefined, b: Ballot | null | undefined): boolean {
  return compareBallots(a, b) < 0;
}

export function ballotEquals(a: Ballot | null | undefined, b: Ballot | null | undefined): boolean {
  return compareBallots(a, b) === 0;
}

/** Returns the greater ballot; ZERO_BALLOT when both are missing. */
export function maxBallot(a: Ballot | null | undefined, b: Ballot | null | undefined): Ballot {
  const left = a ?? ZERO_BALLOT;
  const right = b ?? ZERO_BALLOT;
  return compareBallots(left, right) >= 0 ? left : right;
}

/** Formats a ballot as "term.id"; a missing ballot prints as "0.0". */
export function formatBallot(b: Ballot | null | undefined): string {
  const ballot = b ?? ZERO_BALLOT;
  return `${ballot.term}.${ballot.id}`;
}
