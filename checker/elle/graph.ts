// A compact dependency graph over txn ids: edges in typed arrays, adjacency in CSR form, an iterative
// Tarjan for strongly connected components, and a breadth-first search for shortest paths that must
// pass through given edge types.
import assert from 'node:assert';
import type { EdgeType } from './types.js';

export const WW = 0;
export const WR = 1;
export const RW = 2;
export const PROCESS = 3;
export const REALTIME = 4;
export const EDGE_TYPE_NAMES: readonly EdgeType[] = ['ww', 'wr', 'rw', 'process', 'realtime'];
export const ALL_EDGES = 0b11111;

export function bit(type: number): number {
  return 1 << type;
}

/** A growable edge list: endpoints, type, and the key and positions that explain the edge. */
export class EdgeList {
  length = 0;
  from = new Int32Array(1024);
  to = new Int32Array(1024);
  type = new Uint8Array(1024);
  /** Key id for ww/wr/rw edges; -1 for process and realtime edges. */
  key = new Int32Array(1024);
  /** Version-order position of the value that explains the edge (-1: a value no read observed). */
  position = new Int32Array(1024);
  /** For ww edges, the position of the earlier writer's value. */
  previousPosition = new Int32Array(1024);

  add(from: number, to: number, type: number, key = -1, position = -1, previousPosition = -1): void {
    assert(from !== to, `self edge on txn ${from}`);
    if (this.length === this.from.length) this.grow();
    const i = this.length++;
    this.from[i] = from;
    this.to[i] = to;
    this.type[i] = type;
    this.key[i] = key;
    this.position[i] = position;
    this.previousPosition[i] = previousPosition;
  }

  private grow(): void {
    const size = this.from.length * 2;
    const copy = <T extends Int32Array | Uint8Array>(array: T, make: (n: number) => T): T => {
      const next = make(size);
      next.set(array);
      return next;
    };
    this.from = copy(this.from, (n) => new Int32Array(n));
    this.to = copy(this.to, (n) => new Int32Array(n));
    this.type = copy(this.type, (n) => new Uint8Array(n));
    this.key = copy(this.key, (n) => new Int32Array(n));
    this.position = copy(this.position, (n) => new Int32Array(n));
    this.previousPosition = copy(this.previousPosition, (n) => new Int32Array(n));
  }
}

/** Thrown inside a search when its deadline has passed; the caller turns it into an `unknown`. */
export class BudgetExceeded extends Error {
  override readonly name = 'BudgetExceeded';
}

/** Pops between two clock reads in long searches. */
const CLOCK_CHECK_INTERVAL = 4096;

export class Graph {
  readonly nodeCount: number;
  readonly edges: EdgeList;
  /** Outgoing edges of node u are adjacency[offsets[u] .. offsets[u + 1]), as edge ids. */
  readonly offsets: Int32Array;
  readonly adjacency: Int32Array;
  readonly adjacencyTo: Int32Array;
  readonly adjacencyType: Uint8Array;

  /** Deadline (performance.now() ms) that searches check; Infinity for none. */
  deadlineMs = Infinity;
  private steps = 0;

  // Scratch space reused by every search; only touched entries are reset.
  private readonly tarjanIndex: Int32Array;
  private readonly tarjanLow: Int32Array;
  private readonly onStack: Uint8Array;
  private readonly stack: Int32Array;
  private readonly frameNode: Int32Array;
  private readonly frameCursor: Int32Array;
  private readonly bfsStamp: Int32Array;
  private readonly bfsParentEdge: Int32Array;
  private readonly bfsParentState: Int32Array;
  private readonly queue: Int32Array;
  private stamp = 0;
  private flagBits = 0;

  constructor(nodeCount: number, edges: EdgeList) {
    this.nodeCount = nodeCount;
    this.edges = edges;
    this.offsets = new Int32Array(nodeCount + 1);
    for (let e = 0; e < edges.length; e++) this.offsets[edges.from[e]! + 1]!++;
    for (let u = 0; u < nodeCount; u++) this.offsets[u + 1]! += this.offsets[u]!;
    this.adjacency = new Int32Array(edges.length);
    this.adjacencyTo = new Int32Array(edges.length);
    this.adjacencyType = new Uint8Array(edges.length);
    const cursor = this.offsets.slice(0, nodeCount);
    for (let e = 0; e < edges.length; e++) {
      const slot = cursor[edges.from[e]!]!++;
      this.adjacency[slot] = e;
      this.adjacencyTo[slot] = edges.to[e]!;
      this.adjacencyType[slot] = edges.type[e]!;
    }

    this.tarjanIndex = new Int32Array(nodeCount).fill(-1);
    this.tarjanLow = new Int32Array(nodeCount);
    this.onStack = new Uint8Array(nodeCount);
    this.stack = new Int32Array(nodeCount);
    this.frameNode = new Int32Array(nodeCount);
    this.frameCursor = new Int32Array(nodeCount);
    // BFS states are a node, whether the last edge was rw, and up to two flag bits.
    this.bfsStamp = new Int32Array(nodeCount * 8);
    this.bfsParentEdge = new Int32Array(nodeCount * 8);
    this.bfsParentState = new Int32Array(nodeCount * 8);
    this.queue = new Int32Array(nodeCount * 8);
  }

  private tick(): void {
    if (++this.steps % CLOCK_CHECK_INTERVAL === 0 && performance.now() > this.deadlineMs) throw new BudgetExceeded();
  }

  /**
   * Finds the strongly connected components of the subgraph over `nodes`, restricted to nodes with
   * region[node] === regionId and to edges whose type is in `mask`. Returns the components with two
   * or more nodes, and writes each member's component number into `componentOf`.
   */
  components(nodes: ArrayLike<number>, region: Int32Array, regionId: number, mask: number, componentOf: Int32Array): number[][] {
    try {
      return this.tarjan(nodes, region, regionId, mask, componentOf);
    } finally {
      // Reset the scratch entries even when the budget ran out mid-search.
      for (let i = 0; i < nodes.length; i++) {
        this.tarjanIndex[nodes[i]!] = -1;
        this.onStack[nodes[i]!] = 0;
      }
    }
  }

  private tarjan(nodes: ArrayLike<number>, region: Int32Array, regionId: number, mask: number, componentOf: Int32Array): number[][] {
    const found: number[][] = [];
    let counter = 0;
    let stackSize = 0;
    let depth = 0;
    const enter = (v: number): void => {
      this.tarjanIndex[v] = counter;
      this.tarjanLow[v] = counter;
      counter++;
      this.stack[stackSize++] = v;
      this.onStack[v] = 1;
      this.frameNode[depth] = v;
      this.frameCursor[depth] = this.offsets[v]!;
      depth++;
    };

    for (let i = 0; i < nodes.length; i++) {
      const root = nodes[i]!;
      if (this.tarjanIndex[root] !== -1) continue;
      enter(root);

      while (depth > 0) {
        this.tick();
        const v = this.frameNode[depth - 1]!;
        const end = this.offsets[v + 1]!;
        let cursor = this.frameCursor[depth - 1]!;
        let descended = false;
        while (cursor < end) {
          const slot = cursor++;
          if ((mask & (1 << this.adjacencyType[slot]!)) === 0) continue;
          const w = this.adjacencyTo[slot]!;
          if (region[w] !== regionId) continue;
          if (this.tarjanIndex[w] === -1) {
            this.frameCursor[depth - 1] = cursor;
            enter(w);
            descended = true;
            break;
          }
          if (this.onStack[w] === 1 && this.tarjanIndex[w]! < this.tarjanLow[v]!) this.tarjanLow[v] = this.tarjanIndex[w]!;
        }
        if (descended) continue;

        if (this.tarjanLow[v] === this.tarjanIndex[v]) {
          const members: number[] = [];
          let w: number;
          do {
            w = this.stack[--stackSize]!;
            this.onStack[w] = 0;
            members.push(w);
          } while (w !== v);
          const id = members.length > 1 ? found.length : -1;
          for (const member of members) componentOf[member] = id;
          if (members.length > 1) found.push(members);
        }
        depth--;
        if (depth > 0) {
          const parent = this.frameNode[depth - 1]!;
          if (this.tarjanLow[v]! < this.tarjanLow[parent]!) this.tarjanLow[parent] = this.tarjanLow[v]!;
        }
      }
    }

    return found;
  }

  /**
   * Runs a breadth-first search from `start` over edges in `mask` inside the region. A state is a node
   * plus which of the `need` edge types the path has used so far (at most two types). With
   * `noAdjacentRw` the state also records whether the last edge was rw, and the search never takes two
   * rw edges in a row. It then starts as if an rw edge led into `start`. Afterwards `pathTo` returns the
   * shortest path to a node with every needed type used (and, with `noAdjacentRw`, not entered by rw).
   */
  search(
    start: number,
    startTypes: number,
    mask: number,
    need: number[],
    region: Int32Array,
    regionId: number,
    target = -1,
    noAdjacentRw = false,
  ): boolean {
    assert(need.length <= 2, 'at most two needed edge types');
    this.stamp++;
    this.flagBits = need.length;
    const full = (1 << need.length) - 1;
    const flagsOf = (types: number): number => {
      let flags = 0;
      need.forEach((type, i) => {
        if ((types & (1 << type)) !== 0) flags |= 1 << i;
      });
      return flags;
    };
    const edgeFlags = need.map((type, i) => ({ type, flag: 1 << i }));

    // State layout: node << 3 | lastWasRw << 2 | flags.
    const first = (start << 3) | (noAdjacentRw ? 4 : 0) | flagsOf(startTypes);
    let head = 0;
    let tail = 0;
    this.queue[tail++] = first;
    this.bfsStamp[first] = this.stamp;
    this.bfsParentEdge[first] = -1;

    while (head < tail) {
      this.tick();
      const state = this.queue[head++]!;
      const u = state >> 3;
      const lastWasRw = (state & 4) !== 0;
      const flags = state & 3;
      if (u === target && flags === full && !lastWasRw) return true;
      for (let slot = this.offsets[u]!; slot < this.offsets[u + 1]!; slot++) {
        const type = this.adjacencyType[slot]!;
        if ((mask & (1 << type)) === 0) continue;
        if (noAdjacentRw && lastWasRw && type === RW) continue;
        const w = this.adjacencyTo[slot]!;
        if (region[w] !== regionId) continue;
        let nextFlags = flags;
        for (const { type: needed, flag } of edgeFlags) if (needed === type) nextFlags |= flag;
        const next = (w << 3) | (noAdjacentRw && type === RW ? 4 : 0) | nextFlags;
        if (this.bfsStamp[next] === this.stamp) continue;
        this.bfsStamp[next] = this.stamp;
        this.bfsParentEdge[next] = this.adjacency[slot]!;
        this.bfsParentState[next] = state;
        this.queue[tail++] = next;
      }
    }
    return false;
  }

  /** Edge ids of the last search's shortest path to `node` with every needed type used, or null. */
  pathTo(node: number): number[] | null {
    const full = (1 << this.flagBits) - 1;
    let state = (node << 3) | full;
    if (this.bfsStamp[state] !== this.stamp) return null;
    const path: number[] = [];
    while (this.bfsParentEdge[state] !== -1) {
      path.push(this.bfsParentEdge[state]!);
      state = this.bfsParentState[state]!;
    }
    return path.reverse();
  }
}
