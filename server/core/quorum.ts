// Quorum systems over member positions (0..63).
//
// A config is a list of quorum families; a set of positions is a quorum when it satisfies every
// family. A joint config is the concatenation of two configs' families, so a joint quorum contains
// a quorum of each. Safety needs every two quorums that can be live at the same time to intersect.
//
// How intersection is decided without enumerating the 2^n subsets:
// Two disjoint quorums Q1 (of families F1) and Q2 (of families F2) exist exactly when the voters
// can be split between Q1 and Q2 so that both sides satisfy their families. Every family is
// upward closed, so giving a voter to one side never hurts it: only splits that assign every voter
// to one of the two sides need to be searched.
// - Threshold families only: a position matters only through the set of families it belongs to, so
//   positions are grouped by that signature and the search picks how many of each group go to Q1.
//   For two single thresholds over sets A (threshold ta) and B (threshold tb) this reduces to the
//   closed form: disjoint quorums exist iff max(0, ta - |A\B|) + max(0, tb - |B\A|) <= |A∩B|.
//   Within one majority (A = B, t = floor(n/2)+1) that is 2t <= n, which never holds.
// - One weighted (or threshold) family per side: dynamic programming over positions on the pair of
//   weight sums, each capped at its threshold (pseudo-polynomial in the thresholds).
// - One explicit family per side: compare every pair of listed minimal quorums.
// - Anything else with at most BRUTE_FORCE_VOTERS_MAX voters: try every split.
// - Otherwise: intersection is proved when one family of each side already forces it. If no pair
//   of families does, the check reports that it cannot decide, and callers treat that as a rejection.
import assert from 'node:assert';
import type { ClusterConfig, Member, QuorumFamily } from './types.js';
import { assertNever } from './command.js';

export const POSITION_MAX = 63;
const BRUTE_FORCE_VOTERS_MAX = 20;
/** Bound on the (sum1, sum2) table of the weighted search, in cells per position layer. */
const WEIGHTED_STATES_MAX = 1 << 18;
/** Bound on the visited states of the threshold-group search. */
const GROUP_SEARCH_STEPS_MAX = 2_000_000;
/** Bound on the pairs compared for two explicit families. */
const EXPLICIT_PAIRS_MAX = 10_000_000;

// ---------------------------------------------------------------------------------------------
// Masks

export function positionMask(positions: readonly number[]): bigint {
  let mask = 0n;
  for (const position of positions) {
    if (!Number.isInteger(position) || position < 0 || position > POSITION_MAX) {
      throw new RangeError(`invalid position ${position}: expected an integer in 0..${POSITION_MAX}`);
    }
    mask |= 1n << BigInt(position);
  }
  return mask;
}

function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** A family compiled to two 32-bit mask halves (positions 0..31 and 32..63). */
type CompiledFamily =
  | { kind: 'threshold'; lo: number; hi: number; threshold: number }
  | { kind: 'weighted'; weights: { position: number; weight: number }[]; threshold: number }
  | { kind: 'explicit'; quorums: { lo: number; hi: number }[] };

const compiledFamilies = new WeakMap<QuorumFamily, CompiledFamily>();

function halves(positions: readonly number[]): { lo: number; hi: number } {
  let lo = 0;
  let hi = 0;
  for (const position of positions) {
    if (position < 32) lo |= 1 << position;
    else hi |= 1 << (position - 32);
  }
  return { lo: lo >>> 0, hi: hi >>> 0 };
}

/** Compiles a family once; families are treated as immutable after their first use here. */
function compile(family: QuorumFamily): CompiledFamily {
  const cached = compiledFamilies.get(family);
  if (cached !== undefined) return cached;
  let compiled: CompiledFamily;
  switch (family.kind) {
    case 'threshold':
      compiled = { kind: 'threshold', ...halves(family.positions), threshold: family.threshold };
      break;
    case 'weighted':
      compiled = { kind: 'weighted', weights: family.weights.slice(), threshold: family.threshold };
      break;
    case 'explicit':
      compiled = { kind: 'explicit', quorums: family.quorums.map((quorum) => halves(quorum)) };
      break;
    default:
      return assertNever(family);
  }
  compiledFamilies.set(family, compiled);
  return compiled;
}

function satisfies(family: CompiledFamily, lo: number, hi: number): boolean {
  switch (family.kind) {
    case 'threshold':
      return popcount32(lo & family.lo) + popcount32(hi & family.hi) >= family.threshold;
    case 'weighted': {
      let sum = 0;
      for (const { position, weight } of family.weights) {
        const bit = position < 32 ? (lo >>> position) & 1 : (hi >>> (position - 32)) & 1;
        if (bit === 1) sum += weight;
      }
      return sum >= family.threshold;
    }
    case 'explicit':
      return family.quorums.some((q) => (q.lo & ~lo) === 0 && (q.hi & ~hi) === 0);
    default:
      return assertNever(family);
  }
}

/** True when the positions in the mask form a quorum: they satisfy every family of the config. */
export function isQuorum(config: ClusterConfig, positions: bigint): boolean {
  const lo = Number(positions & 0xffffffffn);
  const hi = Number((positions >> 32n) & 0xffffffffn);
  if (config.families.length === 0) return false;
  for (const family of config.families) {
    if (!satisfies(compile(family), lo, hi)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Membership

function familyPositions(family: QuorumFamily): number[] {
  switch (family.kind) {
    case 'threshold':
      return family.positions;
    case 'weighted':
      return family.weights.filter((w) => w.weight > 0).map((w) => w.position);
    case 'explicit':
      return family.quorums.flat();
    default:
      return assertNever(family);
  }
}

function positionsOfFamilies(families: readonly QuorumFamily[]): number[] {
  const positions = new Set<number>();
  for (const family of families) {
    for (const position of familyPositions(family)) positions.add(position);
  }
  return [...positions].sort((a, b) => a - b);
}

/** Voter positions by config. Configs are never mutated once built, and a leader tests one per commit. */
const voterPositionsByConfig = new WeakMap<ClusterConfig, readonly number[]>();

/** Returns the sorted positions that take part in some quorum; every other member is a learner. */
export function voterPositions(config: ClusterConfig): readonly number[] {
  let positions = voterPositionsByConfig.get(config);
  if (positions === undefined) {
    positions = positionsOfFamilies(config.families);
    voterPositionsByConfig.set(config, positions);
  }
  return positions;
}

export function isVoter(config: ClusterConfig, id: number): boolean {
  const member = config.members.find((m) => m.id === id);
  if (member === undefined) return false;
  return voterPositions(config).includes(member.position);
}

/** True for a member whose position is in no quorum. A non-member is neither voter nor learner. */
export function isLearner(config: ClusterConfig, id: number): boolean {
  const member = config.members.find((m) => m.id === id);
  if (member === undefined) return false;
  return !voterPositions(config).includes(member.position);
}

// ---------------------------------------------------------------------------------------------
// Constructors

function positionsOfIds(members: readonly Member[], ids: readonly number[], what: string): number[] {
  return ids.map((id) => {
    const member = members.find((m) => m.id === id);
    if (member === undefined) {
      throw new RangeError(`${what} ${id} is not a member: add it to the members list first`);
    }
    return member.position;
  });
}

/** Builds a majority config: any floor(n/2)+1 of the n voters (all members by default). */
export function majorityConfig(members: Member[], voterIds?: number[]): ClusterConfig {
  const ids = voterIds ?? members.map((m) => m.id);
  if (ids.length === 0) throw new RangeError('a majority config needs at least one voter');
  const positions = positionsOfIds(members, ids, 'voter id').sort((a, b) => a - b);
  const threshold = Math.floor(positions.length / 2) + 1;
  return { members: members.map((m) => ({ ...m })), families: [{ kind: 'threshold', positions, threshold }] };
}

/**
 * Builds a weighted config: a set is a quorum when its weights sum to at least `threshold`,
 * by default more than half of the total weight. Members without a weight are learners.
 */
export function weightedConfig(
  members: Member[],
  weights: { id: number; weight: number }[],
  threshold?: number,
): ClusterConfig {
  const positions = positionsOfIds(members, weights.map((w) => w.id), 'weighted id');
  const entries = weights.map((w, k) => ({ position: positions[k], weight: w.weight }));
  const total = entries.reduce((sum, e) => sum + e.weight, 0);
  const chosenThreshold = threshold ?? Math.floor(total / 2) + 1;
  return {
    members: members.map((m) => ({ ...m })),
    families: [{ kind: 'weighted', weights: entries, threshold: chosenThreshold }],
  };
}

/**
 * Builds a grid config: members are laid out row by row, `columns` per row, and a quorum is one
 * full row plus one full column. Any row meets any column, so every two quorums intersect.
 */
export function gridConfig(members: Member[], columns: number): ClusterConfig {
  if (!Number.isInteger(columns) || columns < 1 || members.length % columns !== 0) {
    throw new RangeError(
      `invalid grid width ${columns} for ${members.length} members: the member count must be a multiple of it`,
    );
  }
  const rows = members.length / columns;
  const at = (row: number, column: number): number => members[row * columns + column].position;
  const quorums: number[][] = [];
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      const quorum = new Set<number>();
      for (let c = 0; c < columns; c++) quorum.add(at(row, c));
      for (let r = 0; r < rows; r++) quorum.add(at(r, column));
      quorums.push([...quorum].sort((a, b) => a - b));
    }
  }
  return { members: members.map((m) => ({ ...m })), families: [{ kind: 'explicit', quorums }] };
}

/** Builds J(a, b): the members of both, and a quorum is a quorum of a and a quorum of b. */
export function jointConfig(a: ClusterConfig, b: ClusterConfig): ClusterConfig {
  const members = a.members.map((m) => ({ ...m }));
  for (const member of b.members) {
    const sameId = members.find((m) => m.id === member.id);
    const samePosition = members.find((m) => m.position === member.position);
    if (sameId !== undefined && sameId.position !== member.position) {
      throw new RangeError(
        `member ${member.id} has position ${sameId.position} in one config and ${member.position} in the other: positions must stay stable`,
      );
    }
    if (samePosition !== undefined && samePosition.id !== member.id) {
      throw new RangeError(
        `position ${member.position} belongs to member ${samePosition.id} in one config and ${member.id} in the other: never reuse a position`,
      );
    }
    if (sameId === undefined) members.push({ ...member });
  }
  return { members, families: [...a.families, ...b.families] };
}

// ---------------------------------------------------------------------------------------------
// Intersection checks

type DisjointSearch =
  | { kind: 'disjoint'; first: number[]; second: number[] }
  | { kind: 'intersect' }
  | { kind: 'undecided'; reason: string };

/**
 * Returns a reason naming two disjoint quorums of the config, or null when every two quorums
 * intersect. Also returns a reason when the check cannot decide (see the file header).
 */
export function checkPairwiseIntersection(config: ClusterConfig): string | null {
  const search = findDisjointQuorums(config.families, config.families);
  switch (search.kind) {
    case 'intersect':
      return null;
    case 'disjoint':
      return `quorums ${describePositions(config, search.first)} and ${describePositions(config, search.second)} are disjoint`;
    case 'undecided':
      return `cannot verify that every two quorums intersect: ${search.reason}`;
    default:
      return assertNever(search);
  }
}

/** Returns a reason naming a quorum of a disjoint from a quorum of b, or null when none exists. */
export function checkCrossIntersection(a: ClusterConfig, b: ClusterConfig): string | null {
  const search = findDisjointQuorums(a.families, b.families);
  switch (search.kind) {
    case 'intersect':
      return null;
    case 'disjoint':
      return `quorum ${describePositions(a, search.first)} of the first config and quorum ${describePositions(b, search.second)} of the second config are disjoint`;
    case 'undecided':
      return `cannot verify that the two configs' quorums intersect: ${search.reason}`;
    default:
      return assertNever(search);
  }
}

function describePositions(config: ClusterConfig, positions: number[]): string {
  const ids = positions.map((p) => config.members.find((m) => m.position === p)?.id ?? `?${p}`);
  return `{ids ${ids.join(',')} at positions ${positions.join(',')}}`;
}

function findDisjointQuorums(first: readonly QuorumFamily[], second: readonly QuorumFamily[]): DisjointSearch {
  if (first.length === 0 || second.length === 0) {
    return { kind: 'undecided', reason: 'a config has no quorum families' };
  }
  const direct = decideDirectly(first, second);
  if (direct.kind !== 'undecided') return direct;

  // Sufficient condition: if families f1 of the first side and f2 of the second always meet, then
  // so do the quorums, because each contains a quorum of f1 and f2 respectively.
  for (const f1 of first) {
    for (const f2 of second) {
      if (decideDirectly([f1], [f2]).kind === 'intersect') return { kind: 'intersect' };
    }
  }
  return direct;
}

function decideDirectly(first: readonly QuorumFamily[], second: readonly QuorumFamily[]): DisjointSearch {
  const all = [...first, ...second];
  if (all.every((f) => f.kind === 'threshold')) {
    return searchThresholdGroups(first as ThresholdFamily[], second as ThresholdFamily[]);
  }
  if (first.length === 1 && second.length === 1 && first[0].kind !== 'explicit' && second[0].kind !== 'explicit') {
    const weighted = searchWeighted(first[0], second[0]);
    if (weighted.kind !== 'undecided') return weighted;
  }
  if (first.length === 1 && second.length === 1 && first[0].kind === 'explicit' && second[0].kind === 'explicit') {
    return searchExplicitPairs(first[0].quorums, second[0].quorums);
  }
  const voters = positionsOfFamilies(all);
  if (voters.length <= BRUTE_FORCE_VOTERS_MAX) return searchAllSplits(first, second, voters);
  return {
    kind: 'undecided',
    reason: `${voters.length} voters with mixed quorum families exceed the ${BRUTE_FORCE_VOTERS_MAX} that can be checked exhaustively`,
  };
}

type ThresholdFamily = Extract<QuorumFamily, { kind: 'threshold' }>;

interface PositionGroup {
  positions: number[];
  inFirst: boolean[];
  inSecond: boolean[];
}

/** Exact search for threshold families, grouping positions by the families they belong to. */
function searchThresholdGroups(first: ThresholdFamily[], second: ThresholdFamily[]): DisjointSearch {
  const groupsBySignature = new Map<string, PositionGroup>();
  for (const position of positionsOfFamilies([...first, ...second])) {
    const inFirst = first.map((f) => f.positions.includes(position));
    const inSecond = second.map((f) => f.positions.includes(position));
    const signature = [...inFirst, ...inSecond].map((x) => (x ? '1' : '0')).join('');
    const group = groupsBySignature.get(signature) ?? { positions: [], inFirst, inSecond };
    group.positions.push(position);
    groupsBySignature.set(signature, group);
  }
  const groups = [...groupsBySignature.values()];

  // remainingFirst[g][i]: members of first[i] in groups g.. (an upper bound used for pruning).
  const remainingFirst = suffixCounts(groups, first.length, (g, i) => g.inFirst[i]);
  const remainingSecond = suffixCounts(groups, second.length, (g, j) => g.inSecond[j]);
  const failed = new Set<string>();
  const toFirst: number[] = new Array(groups.length).fill(0);
  let steps = 0;

  const visit = (g: number, needFirst: number[], needSecond: number[]): boolean | 'budget' => {
    if (needFirst.every((n) => n === 0) && needSecond.every((n) => n === 0)) return true;
    if (g === groups.length) return false;
    if (needFirst.some((n, i) => n > remainingFirst[g][i])) return false;
    if (needSecond.some((n, j) => n > remainingSecond[g][j])) return false;
    const key = `${g}|${needFirst.join(',')}|${needSecond.join(',')}`;
    if (failed.has(key)) return false;
    if (++steps > GROUP_SEARCH_STEPS_MAX) return 'budget';

    const group = groups[g];
    const size = group.positions.length;
    for (let x = 0; x <= size; x++) {
      const nextFirst = needFirst.map((n, i) => (group.inFirst[i] ? Math.max(0, n - x) : n));
      const nextSecond = needSecond.map((n, j) => (group.inSecond[j] ? Math.max(0, n - (size - x)) : n));
      const found = visit(g + 1, nextFirst, nextSecond);
      if (found === 'budget') return 'budget';
      if (found) {
        toFirst[g] = x;
        return true;
      }
    }
    failed.add(key);
    return false;
  };

  const found = visit(0, first.map((f) => f.threshold), second.map((f) => f.threshold));
  if (found === 'budget') {
    return { kind: 'undecided', reason: `the threshold search exceeded ${GROUP_SEARCH_STEPS_MAX} steps` };
  }
  if (!found) return { kind: 'intersect' };

  const quorumFirst: number[] = [];
  const quorumSecond: number[] = [];
  groups.forEach((group, g) => {
    quorumFirst.push(...group.positions.slice(0, toFirst[g]));
    quorumSecond.push(...group.positions.slice(toFirst[g]));
  });
  return witness(quorumFirst, quorumSecond);
}

function suffixCounts(
  groups: PositionGroup[],
  familyCount: number,
  belongs: (group: PositionGroup, family: number) => boolean,
): number[][] {
  const counts: number[][] = new Array(groups.length + 1);
  counts[groups.length] = new Array(familyCount).fill(0);
  for (let g = groups.length - 1; g >= 0; g--) {
    counts[g] = counts[g + 1].map((n, i) => n + (belongs(groups[g], i) ? groups[g].positions.length : 0));
  }
  return counts;
}

function witness(first: number[], second: number[]): DisjointSearch {
  return {
    kind: 'disjoint',
    first: first.sort((a, b) => a - b),
    second: second.sort((a, b) => a - b),
  };
}

function weightsOf(family: QuorumFamily): Map<number, number> {
  const weights = new Map<number, number>();
  if (family.kind === 'threshold') {
    for (const position of family.positions) weights.set(position, 1);
  } else if (family.kind === 'weighted') {
    for (const { position, weight } of family.weights) weights.set(position, (weights.get(position) ?? 0) + weight);
  }
  return weights;
}

/** Exact search for one weighted or threshold family per side, over capped weight sums. */
function searchWeighted(first: QuorumFamily, second: QuorumFamily): DisjointSearch {
  assert(first.kind !== 'explicit' && second.kind !== 'explicit', 'searchWeighted takes no explicit family');
  const weightsFirst = weightsOf(first);
  const weightsSecond = weightsOf(second);
  const thresholdFirst = first.threshold;
  const thresholdSecond = second.threshold;
  const width = thresholdSecond + 1;
  const cells = (thresholdFirst + 1) * width;
  if (cells > WEIGHTED_STATES_MAX) {
    return { kind: 'undecided', reason: `weighted thresholds ${thresholdFirst} and ${thresholdSecond} are too large to search` };
  }

  const positions = positionsOfFamilies([first, second]);
  // layers[k][s1 * width + s2] = 1 when positions[0..k) can be split to reach the capped sums.
  const layers: Uint8Array[] = [new Uint8Array(cells)];
  layers[0][0] = 1;
  for (const position of positions) {
    const previous = layers[layers.length - 1];
    const next = new Uint8Array(cells);
    const w1 = weightsFirst.get(position) ?? 0;
    const w2 = weightsSecond.get(position) ?? 0;
    for (let s1 = 0; s1 <= thresholdFirst; s1++) {
      for (let s2 = 0; s2 <= thresholdSecond; s2++) {
        if (previous[s1 * width + s2] === 0) continue;
        next[Math.min(thresholdFirst, s1 + w1) * width + s2] = 1;
        next[s1 * width + Math.min(thresholdSecond, s2 + w2)] = 1;
      }
    }
    layers.push(next);
  }
  if (layers[positions.length][thresholdFirst * width + thresholdSecond] === 0) return { kind: 'intersect' };

  // Walk back from the goal cell, picking for each position a side whose predecessor is reachable.
  const quorumFirst: number[] = [];
  const quorumSecond: number[] = [];
  let s1 = thresholdFirst;
  let s2 = thresholdSecond;
  for (let k = positions.length - 1; k >= 0; k--) {
    const previous = layers[k];
    const position = positions[k];
    const w1 = weightsFirst.get(position) ?? 0;
    const w2 = weightsSecond.get(position) ?? 0;
    const fromFirst = predecessorsOf(s1, w1, thresholdFirst).find((p1) => previous[p1 * width + s2] === 1);
    if (fromFirst !== undefined) {
      quorumFirst.push(position);
      s1 = fromFirst;
      continue;
    }
    const fromSecond = predecessorsOf(s2, w2, thresholdSecond).find((p2) => previous[s1 * width + p2] === 1);
    assert(fromSecond !== undefined, 'weighted search lost its path while rebuilding the witness');
    quorumSecond.push(position);
    s2 = fromSecond;
  }
  return witness(quorumFirst, quorumSecond);
}

/** Returns the sums p with min(cap, p + weight) === sum. */
function predecessorsOf(sum: number, weight: number, cap: number): number[] {
  if (sum < cap) return sum - weight >= 0 ? [sum - weight] : [];
  const predecessors: number[] = [];
  for (let p = Math.max(0, cap - weight); p <= cap; p++) predecessors.push(p);
  return predecessors;
}

function searchExplicitPairs(first: number[][], second: number[][]): DisjointSearch {
  if (first.length * second.length > EXPLICIT_PAIRS_MAX) {
    return { kind: 'undecided', reason: `${first.length} x ${second.length} explicit quorums are too many to compare` };
  }
  const masksSecond = second.map((q) => halves(q));
  for (const q1 of first) {
    const m1 = halves(q1);
    for (let k = 0; k < second.length; k++) {
      const m2 = masksSecond[k];
      if ((m1.lo & m2.lo) === 0 && (m1.hi & m2.hi) === 0) return witness([...q1], [...second[k]]);
    }
  }
  return { kind: 'intersect' };
}

/** Tries every split of at most BRUTE_FORCE_VOTERS_MAX voters between the two sides. */
function searchAllSplits(first: readonly QuorumFamily[], second: readonly QuorumFamily[], voters: number[]): DisjointSearch {
  assert(voters.length <= BRUTE_FORCE_VOTERS_MAX, 'too many voters for an exhaustive split');
  const compiledFirst = first.map(compile);
  const compiledSecond = second.map(compile);
  const bits = voters.map((position) => halves([position]));
  const allVoters = halves(voters);
  const splitCount = 2 ** voters.length;
  for (let split = 0; split < splitCount; split++) {
    let lo = 0;
    let hi = 0;
    for (let k = 0; k < voters.length; k++) {
      if (((split >>> k) & 1) === 0) continue;
      lo |= bits[k].lo;
      hi |= bits[k].hi;
    }
    if (!compiledFirst.every((f) => satisfies(f, lo, hi))) continue;
    const otherLo = (allVoters.lo & ~lo) >>> 0;
    const otherHi = (allVoters.hi & ~hi) >>> 0;
    if (!compiledSecond.every((f) => satisfies(f, otherLo, otherHi))) continue;
    return witness(
      voters.filter((_, k) => ((split >>> k) & 1) === 1),
      voters.filter((_, k) => ((split >>> k) & 1) === 0),
    );
  }
  return { kind: 'intersect' };
}

// ---------------------------------------------------------------------------------------------
// Validation

function isSafeNonNegative(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/** Returns why a config is invalid, or null when it is valid and every two quorums intersect. */
export function validateConfig(config: ClusterConfig): string | null {
  const membersProblem = validateMembers(config.members);
  if (membersProblem !== null) return membersProblem;
  if (!Array.isArray(config.families) || config.families.length === 0) {
    return 'config has no quorum families: give at least one, e.g. a majority of the voters';
  }
  const memberPositions = new Set(config.members.map((m) => m.position));
  for (const [k, family] of config.families.entries()) {
    const problem = validateFamily(family, memberPositions);
    if (problem !== null) return `quorum family ${k}: ${problem}`;
  }
  return checkPairwiseIntersection(config);
}

function validateMembers(members: readonly Member[]): string | null {
  if (!Array.isArray(members) || members.length === 0) return 'config has no members';
  const ids = new Set<number>();
  const positions = new Set<number>();
  for (const member of members) {
    if (!isSafeNonNegative(member.id)) return `invalid member id ${String(member.id)}: expected a non-negative integer`;
    if (!Number.isInteger(member.position) || member.position < 0 || member.position > POSITION_MAX) {
      return `invalid position ${String(member.position)} of member ${member.id}: expected an integer in 0..${POSITION_MAX}`;
    }
    if (typeof member.addr !== 'string') return `invalid address of member ${member.id}: expected host:port`;
    if (ids.has(member.id)) return `member id ${member.id} appears twice`;
    if (positions.has(member.position)) return `position ${member.position} is used by two members`;
    ids.add(member.id);
    positions.add(member.position);
  }
  return null;
}

function validatePositionList(positions: readonly number[], memberPositions: Set<number>): string | null {
  const seen = new Set<number>();
  for (const position of positions) {
    if (!memberPositions.has(position)) return `position ${String(position)} belongs to no member`;
    if (seen.has(position)) return `position ${position} appears twice`;
    seen.add(position);
  }
  return null;
}

function validateFamily(family: QuorumFamily, memberPositions: Set<number>): string | null {
  switch (family.kind) {
    case 'threshold': {
      if (!Array.isArray(family.positions) || family.positions.length === 0) return 'threshold family has no positions';
      const problem = validatePositionList(family.positions, memberPositions);
      if (problem !== null) return problem;
      if (!Number.isInteger(family.threshold) || family.threshold < 1 || family.threshold > family.positions.length) {
        return `invalid threshold ${family.threshold}: expected 1..${family.positions.length}`;
      }
      return null;
    }
    case 'weighted': {
      if (!Array.isArray(family.weights) || family.weights.length === 0) return 'weighted family has no weights';
      const problem = validatePositionList(family.weights.map((w) => w.position), memberPositions);
      if (problem !== null) return problem;
      const bad = family.weights.find((w) => !isSafeNonNegative(w.weight));
      if (bad !== undefined) return `invalid weight ${String(bad.weight)} at position ${bad.position}: expected a non-negative integer`;
      const total = family.weights.reduce((sum, w) => sum + w.weight, 0);
      if (!Number.isInteger(family.threshold) || family.threshold < 1 || family.threshold > total) {
        return `invalid weighted threshold ${family.threshold}: expected 1..${total} (the total weight)`;
      }
      return null;
    }
    case 'explicit': {
      if (!Array.isArray(family.quorums) || family.quorums.length === 0) return 'explicit family lists no quorums';
      for (const [k, quorum] of family.quorums.entries()) {
        if (!Array.isArray(quorum) || quorum.length === 0) return `explicit quorum ${k} is empty`;
        const problem = validatePositionList(quorum, memberPositions);
        if (problem !== null) return `explicit quorum ${k}: ${problem}`;
      }
      return null;
    }
    default:
      return `unknown quorum family kind ${JSON.stringify((family as { kind?: unknown }).kind)}`;
  }
}
