// Elle-format (EDN) list-append histories: micro-op functions as keywords, keys as numbers or
// strings, nil reads; they must check as they are.
import { parseEDNString } from 'edn-data';
import t from 'tap';
import { parseEdnHistory } from '../history/edn.js';
import type { Op } from '../history/types.js';
import { checkListAppend, normalizeListAppendOps } from './index.js';
import { parseMicroOp } from './normalize.js';

const ELLE_HISTORY = `[
{:type :invoke, :f :txn, :value [[:append 3 5] [:r 4 nil]], :process 0, :index 0}
{:type :ok, :f :txn, :value [[:append 3 5] [:r 4 nil]], :process 0, :index 1}
{:type :invoke, :f :txn, :value [[:append 4 1] [:append 4 2] [:r 3 nil]], :process 1, :index 2}
{:type :ok, :f :txn, :value [[:append 4 1] [:append 4 2] [:r 3 [5]]], :process 1, :index 3}
{:type :invoke, :f :start, :value nil, :process :nemesis, :index 4}
{:type :info, :f :start, :value "partitioned", :process :nemesis, :index 5}
{:type :invoke, :f :txn, :value [[:r 3 nil] [:r 4 nil] [:append "k" "v"]], :process 2, :index 6}
{:type :ok, :f :txn, :value [[:r 3 [5]] [:r 4 [1 2]] [:append "k" "v"]], :process 2, :index 7}
]`;

t.test('micro-op forms', async (t) => {
  t.same(parseMicroOp(['append', 3, 5], 0), { f: 'append', key: 3, value: 5 });
  t.same(parseMicroOp([':append', 'k', 'v'], 0), { f: 'append', key: 'k', value: 'v' });
  t.same(parseMicroOp([{ key: 'r' }, 4, [1, 2]], 0), { f: 'r', key: 4, list: [1, 2] });
  t.same(parseMicroOp(['r', 4, null], 0), { f: 'r', key: 4, list: null });
  t.same(parseMicroOp(['r', 4], 0), { f: 'r', key: 4, list: null }, 'a read without a result slot is an unread read');
  t.same(parseMicroOp(['append', BigInt(7), BigInt(9)], 0), { f: 'append', key: 7, value: 9 });

  t.throws(() => parseMicroOp(['append', 3], 2), { message: /op 2: appended value undefined for key 3 must be a number or string/ });
  t.throws(() => parseMicroOp(['r', 3, 'abc'], 2), { message: /op 2: the read of key 3 returned "abc", expected a list or null/ });
  t.throws(() => parseMicroOp(['r', { a: 1 }, []], 2), { message: /op 2: micro-op key \{"a":1\} must be a number or string/ });
  t.throws(() => parseMicroOp('append', 2), { message: /op 2: micro-op "append" is invalid/ });
});

t.test('keyword objects normalise to strings', async (t) => {
  // edn-data's default options keep keywords as {key: name} objects.
  const value = parseEDNString('[[:append 3 5] [:r 4 [1 2]] [:r 5 nil]]') as unknown;
  const ops: Op[] = [{ index: 0, time: 0, process: 0, type: 'ok', f: 'txn', value }];
  t.same(normalizeListAppendOps(ops)[0]!.value, [['append', 3, 5], ['r', 4, [1, 2]], ['r', 5, null]]);

  const nemesis: Op = { index: 1, time: 0, process: 'nemesis', type: 'info', f: 'kill', value: { node: 'n1' } };
  t.equal(normalizeListAppendOps([nemesis])[0], nemesis, 'ops of other functions pass through');
});

t.test('Elle EDN history checks as it is', async (t) => {
  const ops = parseEdnHistory('elle.edn', ELLE_HISTORY).map((located) => located.op);
  const result = await checkListAppend(ops, { consistency: 'strict-serializable' });
  t.equal(result.valid, true, result.summary);
  t.equal(result.stats?.txnCount, 3, 'nemesis ops are not txns');
  t.equal(result.stats?.keyCount, 3);
});

t.test('two-micro-op txns survive tuple splitting', async (t) => {
  // Every txn has two micro-ops, so the EDN loader may take each value for an independent [key value] tuple.
  const text = `
{:type :invoke, :f :txn, :value [[:append 3 5] [:r 4 nil]], :process 0, :index 0}
{:type :ok, :f :txn, :value [[:append 3 5] [:r 4 nil]], :process 0, :index 1}
{:type :invoke, :f :txn, :value [[:r 3 nil] [:append 4 1]], :process 1, :index 2}
{:type :ok, :f :txn, :value [[:r 3 [5]] [:append 4 1]], :process 1, :index 3}
{:type :invoke, :f :txn, :value [[:r 3 nil] [:r 4 nil]], :process 2, :index 4}
{:type :ok, :f :txn, :value [[:r 3 [5]] [:r 4 [1]]], :process 2, :index 5}`;
  const ops = parseEdnHistory('pairs.edn', text).map((located) => located.op);
  const normalized = normalizeListAppendOps(ops);
  t.same(normalized[1]!.value, [['append', 3, 5], ['r', 4, null]]);
  t.equal(normalized[1]!.key, undefined);

  const result = await checkListAppend(ops, { consistency: 'strict-serializable' });
  t.equal(result.valid, true, result.summary);
  t.equal(result.stats?.keyCount, 2);
  t.same(result.anomalyTypes, []);
});

t.test('Elle EDN history with a G-single', async (t) => {
  // The last txn now misses key 3's 5, which the txn whose appends it saw had read.
  const text = ELLE_HISTORY.replace('[:r 3 [5]] [:r 4 [1 2]]', '[:r 3 []] [:r 4 [1 2]]');
  const ops = parseEdnHistory('elle.edn', text).map((located) => located.op);
  const result = await checkListAppend(ops, { consistency: 'serializable' });
  t.equal(result.valid, false);
  t.ok(result.anomalyTypes.includes('G-single'), `found ${result.anomalyTypes.join(', ')}`);
  const cycle = result.anomalies.find((anomaly) => anomaly.kind === 'G-single')?.details?.cycle;
  t.same(cycle?.edges.map((edge) => edge.type), ['wr', 'wr', 'rw']);
});
