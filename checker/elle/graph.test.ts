// The graph primitives against naive models: Tarjan against mutual reachability, the real-time
// transitive reduction against the full "completed before invoked" relation, and the constrained BFS.
import fc from 'fast-check';
import t from 'tap';
import { addRealtimeEdges } from './edges.js';
import { ALL_EDGES, EdgeList, Graph, PROCESS, RW, WR, WW, bit } from './graph.js';
import type { Txn } from './types.js';

/** Reachability over the edges, by Floyd-Warshall; reach[a][b] is true when a path of one or more edges exists. */
function closure(n: number, pairs: [number, number][]): boolean[][] {
  const reach = Array.from({ length: n }, () => new Array<boolean>(n).fill(false));
  for (const [a, b] of pairs) reach[a]![b] = true;
  for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (reach[i]![k] && reach[k]![j]) reach[i]![j] = true;
  return reach;
}

const graphArbitrary = fc.integer({ min: 1, max: 14 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    edges: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1), fc.nat(4)), { maxLength: 40 }).map((list) => list.filter(([a, b]) => a !== b)),
  }),
);

t.test('components match mutual reachability', async (t) => {
  fc.assert(
    fc.property(graphArbitrary, ({ n, edges }) => {
      const list = new EdgeList();
      for (const [a, b, type] of edges) list.add(a, b, type);
      const graph = new Graph(n, list);
      const region = new Int32Array(n).fill(0);
      const componentOf = new Int32Array(n).fill(-1);
      const nodes = Array.from({ length: n }, (_, i) => i);
      const found = graph.components(nodes, region, 0, ALL_EDGES, componentOf);

      const reach = closure(n, edges.map(([a, b]) => [a, b]));
      for (let a = 0; a < n; a++) {
        for (let b = 0; b < n; b++) {
          const together = a !== b && reach[a]![b]! && reach[b]![a]!;
          const sameComponent = a !== b && componentOf[a]! >= 0 && componentOf[a] === componentOf[b];
          if (together !== sameComponent) throw new Error(`nodes ${a} and ${b}: mutual reachability ${together}, same component ${sameComponent}`);
        }
      }
      for (const members of found) if (members.length < 2) throw new Error('a trivial component was returned');
    }),
    { numRuns: 300 },
  );
  t.pass('300 random graphs');
});

t.test('components honour the edge mask', async (t) => {
  const list = new EdgeList();
  list.add(0, 1, WW);
  list.add(1, 0, RW);
  list.add(1, 2, WR);
  list.add(2, 1, WR);
  const graph = new Graph(3, list);
  const componentOf = new Int32Array(3).fill(-1);
  const region = new Int32Array(3).fill(0);
  t.same(graph.components([0, 1, 2], region, 0, bit(WW) | bit(WR), componentOf).map((c) => c.sort()), [[1, 2]]);
  t.equal(componentOf[0], -1);
  t.same(graph.components([0, 1, 2], region, 0, ALL_EDGES, componentOf).map((c) => c.sort()), [[0, 1, 2]]);
});

t.test('search finds shortest path through needed types', async (t) => {
  // 0 -ww-> 1 -ww-> 3 is shortest, but only 0 -ww-> 2 -process-> 4 -ww-> 3 uses a process edge.
  const list = new EdgeList();
  list.add(0, 1, WW);
  list.add(1, 3, WW);
  list.add(0, 2, WW);
  list.add(2, 4, PROCESS);
  list.add(4, 3, WW);
  const graph = new Graph(5, list);
  const region = new Int32Array(5).fill(0);

  t.ok(graph.search(0, 0, ALL_EDGES, [], region, 0, 3));
  t.same(graph.pathTo(3)?.map((e) => list.to[e]), [1, 3]);

  t.ok(graph.search(0, 0, ALL_EDGES, [PROCESS], region, 0, 3));
  t.same(graph.pathTo(3)?.map((e) => list.to[e]), [2, 4, 3]);

  t.notOk(graph.search(0, 0, bit(WW), [PROCESS], region, 0, 3), 'masking process edges out leaves no qualifying path');
  t.equal(graph.pathTo(3), null);
});

function txnWindow(id: number, invokePosition: number, completePosition: number, outcome: Txn['outcome']): Txn {
  return { id, index: id, invokeIndex: invokePosition, process: id, outcome, invokePosition, completePosition, lastPosition: Number.isFinite(completePosition) ? completePosition : invokePosition, ops: [], recordedValue: [] };
}

t.test('realtime edges reduce the completed-before-invoked order', async (t) => {
  const windows = fc.array(fc.tuple(fc.nat(40), fc.nat(10), fc.constantFrom<Txn['outcome']>('ok', 'ok', 'ok', 'info', 'fail')), { minLength: 1, maxLength: 16 });
  fc.assert(
    fc.property(windows, (spec) => {
      // Distinct history positions: invocations even, completions odd, and unique per txn id.
      const n = spec.length;
      const txns = spec.map(([start, length, outcome], id) => {
        const invoke = (start * n + id) * 2;
        const complete = ((start + length + 1) * n + id) * 2 + 1;
        return txnWindow(id, invoke, outcome === 'info' ? Infinity : complete, outcome);
      });
      const list = new EdgeList();
      addRealtimeEdges(txns, list);
      const pairs: [number, number][] = [];
      for (let e = 0; e < list.length; e++) pairs.push([list.from[e]!, list.to[e]!]);
      const reach = closure(n, pairs);

      for (const a of txns) {
        for (const b of txns) {
          if (a.id === b.id) continue;
          const expected = a.outcome === 'ok' && b.outcome !== 'fail' && a.completePosition < b.invokePosition;
          if (reach[a.id]![b.id] !== expected) throw new Error(`txns ${a.id} -> ${b.id}: reachable ${reach[a.id]![b.id]}, expected ${expected}`);
        }
      }
    }),
    { numRuns: 300 },
  );
  t.pass('300 random schedules');
});
