import t from 'tap';
import type { Command } from './types.js';
import { majorityConfig } from './quorum.js';
import { commandKeys, describeCommand, interferes, isBarrier, isBlind } from './command.js';

const config: Command = {
  kind: 'config',
  config: majorityConfig([{ id: 1, addr: '127.0.0.1:1', position: 0 }]),
};
const commands: Record<string, Command> = {
  noop: { kind: 'noop' },
  putX: { kind: 'put', key: 'x', value: 1 },
  putX2: { kind: 'put', key: 'x', value: 2 },
  putY: { kind: 'put', key: 'y', value: 1 },
  deleteX: { kind: 'delete', key: 'x' },
  casX: { kind: 'cas', key: 'x', expected: 1, value: 2 },
  appendX: { kind: 'append', key: 'x', value: 3 },
  incrY: { kind: 'incr', key: 'y', delta: 2 },
  txnXY: { kind: 'txn', ops: [{ f: 'append', key: 'x', value: 1 }, { f: 'r', key: 'y' }] },
  txnZ: { kind: 'txn', ops: [{ f: 'r', key: 'z' }] },
  config,
};

t.test('command keys', async (t) => {
  t.same([...(commandKeys(commands.noop) as Set<string>)], []);
  t.same([...(commandKeys(commands.casX) as Set<string>)], ['x']);
  t.same([...(commandKeys(commands.txnXY) as Set<string>)].sort(), ['x', 'y']);
  t.equal(commandKeys(commands.config), 'all');
});

t.test('blind and barrier commands', async (t) => {
  t.ok(isBlind(commands.putX));
  t.ok(isBlind(commands.deleteX));
  for (const name of ['casX', 'appendX', 'incrY', 'txnXY', 'noop', 'config']) t.notOk(isBlind(commands[name]), name);
  t.ok(isBarrier(commands.config));
  t.notOk(isBarrier(commands.noop));
});

t.test('interference table', async (t) => {
  const cases: [string, string, boolean, boolean][] = [
    // a, b, interferes, interferes under set-only-interference
    ['putX', 'putX2', true, true],
    ['putX', 'putY', false, false],
    ['putX', 'casX', true, false],
    ['appendX', 'appendX', true, false],
    ['deleteX', 'putX', true, false],
    ['incrY', 'txnXY', true, false],
    ['txnXY', 'txnZ', false, false],
    ['txnXY', 'appendX', true, false],
    ['noop', 'putX', false, false],
    ['noop', 'noop', false, false],
    ['config', 'putY', true, false],
    ['config', 'noop', true, false],
    ['config', 'config', true, false],
  ];
  for (const [a, b, expected, setOnly] of cases) {
    t.equal(interferes(commands[a], commands[b]), expected, `${a} with ${b}`);
    t.equal(interferes(commands[b], commands[a]), expected, `${b} with ${a}`);
    t.equal(interferes(commands[a], commands[b], { setOnlyInterference: true }), setOnly, `${a} with ${b}, set-only`);
  }
});

t.test('describe commands', async (t) => {
  t.equal(describeCommand(commands.casX), 'cas x 1->2');
  t.equal(describeCommand(commands.txnXY), 'txn[append x 1, r y]');
  t.equal(describeCommand(commands.incrY), 'incr y 2');
  t.equal(describeCommand(commands.config), 'config{members 1@0; 1 quorum families}');
  t.equal(describeCommand({ kind: 'put', key: 'k', value: 'v'.repeat(100) }), `put k="${'v'.repeat(39)}...`);
});
