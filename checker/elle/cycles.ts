// Cycle search: strongly connected components of the dependency graph, then, inside each component,
// the shortest cycle of each anomaly class that can be found within the component's time budget.
import { ALL_EDGES, BudgetExceeded, Graph, PROCESS, REALTIME, RW, WR, WW, bit } from './graph.js';
import { modelIndex, weakestRuledOut } from './models.js';
import type { Txn } from './types.js';

export interface FoundCycle {
  kind: string;
  /** Edge ids in path order; the last edge ends where the first starts. */
  edges: number[];
}

export interface UnfinishedComponent {
  size: number;
  /** The search class the budget ran out in, for example `G-single-process`. */
  search: string;
  /** Index (in CONSISTENCY_MODELS) of the weakest model the unfinished searches could have ruled out. */
  weakestModelIndex: number;
}

export interface CycleSearchResult {
  cycles: FoundCycle[];
  componentCount: number;
  unfinished: UnfinishedComponent[];
}

/** The order variants: edges each adds to ww/wr/rw, the edge type a cycle must use, and the kind suffix. */
const LEVELS = [
  { suffix: '', extraMask: 0, need: [] as number[] },
  { suffix: '-process', extraMask: bit(PROCESS), need: [PROCESS] },
  { suffix: '-realtime', extraMask: bit(PROCESS) | bit(REALTIME), need: [REALTIME] },
];

/**
 * Names a cycle by its edges. The rw count picks the class: none is G0 (or G1c with a wr edge), one
 * is G-single, and more is G-nonadjacent when no two rw edges are consecutive, else G2-item. A
 * real-time or process edge picks the variant.
 */
export function classifyCycle(graph: Graph, cycle: readonly number[]): string {
  let rw = 0;
  let adjacentRw = false;
  let wr = 0;
  let process = 0;
  let realtime = 0;
  cycle.forEach((edge, i) => {
    const type = graph.edges.type[edge]!;
    if (type === RW && graph.edges.type[cycle[(i + 1) % cycle.length]!] === RW && cycle.length > 1) adjacentRw = true;
    if (type === RW) rw++;
    else if (type === WR) wr++;
    else if (type === PROCESS) process++;
    else if (type === REALTIME) realtime++;
  });
  let base = 'G2-item';
  if (rw === 0) base = wr === 0 ? 'G0' : 'G1c';
  else if (rw === 1) base = 'G-single';
  else if (!adjacentRw) base = 'G-nonadjacent';
  if (realtime > 0) return `${base}-realtime`;
  if (process > 0) return `${base}-process`;
  return base;
}

export function searchCycles(graph: Graph, txns: readonly Txn[], timeLimitMs: number): CycleSearchResult {
  const n = graph.nodeCount;
  const region = new Int32Array(n).fill(-1);
  const nodes: number[] = [];
  for (const txn of txns) {
    if (txn.outcome === 'fail') continue;
    region[txn.id] = 0;
    nodes.push(txn.id);
  }
  const componentOf = new Int32Array(n).fill(-1);
  graph.deadlineMs = Infinity;
  const components = graph.components(nodes, region, 0, ALL_EDGES, componentOf);

  const search = new ComponentSearch(graph, componentOf);
  const cycles: FoundCycle[] = [];
  const unfinished: UnfinishedComponent[] = [];
  components.forEach((members, id) => {
    const outcome = search.run(members, id, timeLimitMs);
    cycles.push(...outcome.cycles.values());
    if (outcome.unfinished !== undefined) unfinished.push(outcome.unfinished);
  });
  return { cycles, componentCount: components.length, unfinished };
}

class ComponentSearch {
  private readonly subRegion: Int32Array;

  constructor(
    private readonly graph: Graph,
    private readonly componentOf: Int32Array,
  ) {
    this.subRegion = new Int32Array(graph.nodeCount).fill(-1);
  }

  run(members: number[], id: number, timeLimitMs: number): { cycles: Map<string, FoundCycle>; unfinished?: UnfinishedComponent } {
    const found = new Map<string, FoundCycle>();
    const keep = (edges: number[] | null): void => {
      if (edges === null) return;
      const kind = classifyCycle(this.graph, edges);
      const known = found.get(kind);
      if (known === undefined || known.edges.length > edges.length) found.set(kind, { kind, edges });
    };

    // Any cycle first, without a budget: the search is linear and guarantees every component yields an anomaly.
    this.graph.deadlineMs = Infinity;
    keep(this.anyCycle(members, id));

    this.graph.deadlineMs = performance.now() + timeLimitMs;
    const present = this.edgeTypesInside(members, id);
    const searches = this.plan(present, found);
    for (const { name, run } of searches) {
      try {
        if (performance.now() >= this.graph.deadlineMs) throw new BudgetExceeded();
        keep(run(members, id));
      } catch (error) {
        if (!(error instanceof BudgetExceeded)) throw error;
        this.clearSubRegion(members);
        const pending = searches.slice(searches.findIndex((s) => s.name === name));
        const weakestModelIndex = Math.min(...pending.map((s) => modelIndex(weakestRuledOut(s.name))));
        return { cycles: found, unfinished: { size: members.length, search: name, weakestModelIndex } };
      }
    }
    return { cycles: found };
  }

  /** Lists the searches to run, weakest-model first, skipping variants whose edge type the component lacks. */
  private plan(present: number, found: Map<string, FoundCycle>): { name: string; run: (members: number[], id: number) => number[] | null }[] {
    const searches: { name: string; run: (members: number[], id: number) => number[] | null }[] = [];
    for (const level of LEVELS) {
      if (level.need.some((type) => (present & bit(type)) === 0)) continue;
      const mask = bit(WW) | bit(WR) | level.extraMask;
      searches.push({ name: `G0${level.suffix}`, run: (m, id) => this.closedCycle(m, id, bit(WW) | level.extraMask, level.need.length > 0 ? level.need[0]! : WW, level.need) });
      searches.push({ name: `G1c${level.suffix}`, run: (m, id) => this.closedCycle(m, id, mask, WR, [WR, ...level.need]) });
      searches.push({ name: `G-single${level.suffix}`, run: (m, id) => this.singleAntiDependency(m, id, mask, level.need) });
      searches.push({ name: `G-nonadjacent${level.suffix}`, run: (m, id) => this.nonadjacentCycle(m, id, mask | bit(RW), level.need) });
      searches.push({
        name: `G2-item${level.suffix}`,
        run: (m, id) => (found.has(`G-single${level.suffix}`) ? null : this.closedCycle(m, id, mask | bit(RW), RW, [RW, ...level.need])),
      });
    }
    return searches;
  }

  private edgeTypesInside(members: number[], id: number): number {
    let present = 0;
    for (const u of members) {
      for (let slot = this.graph.offsets[u]!; slot < this.graph.offsets[u + 1]!; slot++) {
        if (this.componentOf[this.graph.adjacencyTo[slot]!] === id) present |= bit(this.graph.adjacencyType[slot]!);
      }
    }
    return present;
  }

  private anyCycle(members: number[], id: number): number[] | null {
    for (const u of members) {
      for (let slot = this.graph.offsets[u]!; slot < this.graph.offsets[u + 1]!; slot++) {
        const v = this.graph.adjacencyTo[slot]!;
        if (this.componentOf[v] !== id) continue;
        const closing = this.graph.adjacency[slot]!;
        this.graph.search(v, 0, ALL_EDGES, [], this.componentOf, id, u);
        const path = this.graph.pathTo(u);
        if (path !== null) return [...path, closing];
      }
    }
    return null;
  }

  /**
   * Finds a cycle over `mask` edges that uses every type in `need`, closed by an edge of type
   * `closingType`. Only edges inside one strongly connected component of the `mask` subgraph can
   * close such a cycle, so those are the candidates.
   */
  private closedCycle(members: number[], id: number, mask: number, closingType: number, need: number[]): number[] | null {
    const graph = this.graph;
    const parts = graph.components(members, this.componentOf, id, mask, this.subRegion);
    try {
      for (let part = 0; part < parts.length; part++) {
        for (const u of parts[part]!) {
          for (let slot = graph.offsets[u]!; slot < graph.offsets[u + 1]!; slot++) {
            if (graph.adjacencyType[slot] !== closingType) continue;
            const v = graph.adjacencyTo[slot]!;
            if (this.subRegion[v] !== part) continue;
            graph.search(v, bit(closingType), mask, need, this.subRegion, part, u);
            const cycle = this.simpleCycle(graph.pathTo(u), graph.adjacency[slot]!);
            if (cycle !== null) return cycle;
          }
        }
      }
      return null;
    } finally {
      this.clearSubRegion(members);
    }
  }

  /**
   * Finds a cycle with exactly one rw edge: an rw edge u -> v plus a path v -> u over `mask` edges
   * (which exclude rw). One search from each distinct v serves every rw edge into v.
   */
  private singleAntiDependency(members: number[], id: number, mask: number, need: number[]): number[] | null {
    const graph = this.graph;
    const parts = graph.components(members, this.componentOf, id, mask | bit(RW), this.subRegion);
    const closingInto = new Map<number, number[]>();
    try {
      for (const u of members) {
        for (let slot = graph.offsets[u]!; slot < graph.offsets[u + 1]!; slot++) {
          if (graph.adjacencyType[slot] !== RW) continue;
          const v = graph.adjacencyTo[slot]!;
          if (this.subRegion[u] < 0 || this.subRegion[v] !== this.subRegion[u]) continue;
          let list = closingInto.get(v);
          if (list === undefined) closingInto.set(v, (list = []));
          list.push(slot);
        }
      }
    } finally {
      this.clearSubRegion(members);
    }
    if (parts.length === 0) return null;

    for (const [v, slots] of closingInto) {
      graph.search(v, bit(RW), mask, need, this.componentOf, id);
      let best: number[] | null = null;
      for (const slot of slots) {
        const cycle = this.simpleCycle(graph.pathTo(graph.edges.from[graph.adjacency[slot]!]!), graph.adjacency[slot]!);
        if (cycle !== null && (best === null || cycle.length < best.length)) best = cycle;
      }
      if (best !== null) return best;
    }
    return null;
  }

  /**
   * Finds a cycle of two or more rw edges, no two of them consecutive, closed by an rw edge u -> v.
   * The search from v may not take rw right after rw, must use another rw edge, and must reach u by
   * a non-rw edge.
   */
  private nonadjacentCycle(members: number[], id: number, mask: number, need: number[]): number[] | null {
    const graph = this.graph;
    const parts = graph.components(members, this.componentOf, id, mask, this.subRegion);
    try {
      for (let part = 0; part < parts.length; part++) {
        for (const u of parts[part]!) {
          for (let slot = graph.offsets[u]!; slot < graph.offsets[u + 1]!; slot++) {
            if (graph.adjacencyType[slot] !== RW) continue;
            const v = graph.adjacencyTo[slot]!;
            if (this.subRegion[v] !== part) continue;
            // RW is listed as needed so the path itself contains a second rw edge; the closing edge's type is not counted.
            graph.search(v, 0, mask, [RW, ...need], this.subRegion, part, u, true);
            const cycle = this.simpleCycle(graph.pathTo(u), graph.adjacency[slot]!);
            if (cycle !== null) return cycle;
          }
        }
      }
      return null;
    } finally {
      this.clearSubRegion(members);
    }
  }

  /**
   * Closes `path` with `closing`, or returns null when the result visits a txn twice. A search whose
   * state carries flags may find such a walk, and a walk is not one cycle, so it cannot be classified.
   * NOTE: the next candidate edge is tried instead. A longer simple cycle through the same closing
   * edge is missed when a shorter walk exists, so the search is not exhaustive for that edge.
   */
  private simpleCycle(path: number[] | null, closing: number): number[] | null {
    if (path === null) return null;
    const cycle = [...path, closing];
    const seen = new Set<number>();
    for (const edge of cycle) {
      const from = this.graph.edges.from[edge]!;
      if (seen.has(from)) return null;
      seen.add(from);
    }
    return cycle;
  }

  private clearSubRegion(members: number[]): void {
    for (const u of members) this.subRegion[u] = -1;
  }
}
