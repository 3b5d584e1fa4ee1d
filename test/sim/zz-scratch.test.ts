import t from 'tap';
import type { LogRecord, Message } from '../../server/core/types.js';
import { Script, match } from '../../server/sim/script.js';
function withoutRecords(drop: (r: LogRecord) => boolean): (m: Message) => Message {
  return (m) => (m.type === 'log-forward' ? { ...m, records: m.records.filter((r) => !drop(r)) } : m);
}
t.test('x', async (t) => {
  const s = new Script({ nodeCount: 3, seed: 54, checkpointEveryApplied: 25 });
  s.elect(0);
  let held = -1;
  for (let i = 0; i < 45; i++) {
    s.propose(0, { kind: 'put', key: 'hot', value: i });
    if (i === 10) held = (s.view(0)?.accepted.len() ?? 0) - 1;
    for (let r = 0; r < 5; r++) if (s.deliverEdited(() => true, withoutRecords((x) => x.seq === held)) === 0) break;
    if (i % 10 === 0) s.tick(0, 3);
  }
  const v = s.view(0)!;
  console.log('held', held, 'committed', v.committed.toString(), 'applied', v.applied.toString(), 'floor', v.floor);
  for (const [lsn, r] of [...v.records].slice(-5)) console.log(lsn, r.overrides.toString(), r.depends.toString());
});
