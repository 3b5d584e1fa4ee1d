// Recorded histories from other projects' test runs (Jepsen etcd, Porcupine kv), each with a known verdict.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { loadHistoryWithLines } from '../../checker/history/load.js';
import { checkLinearizable } from '../../checker/linearizable/index.js';
import type { ModelName } from '../../checker/models/types.js';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const corpus = resolve(projectRoot, '../shared/corpus');

function expectedVerdicts(folder: string): Array<[string, boolean]> {
  const rows = readFileSync(join(folder, 'expected.tsv'), 'utf8').trim().split('\n').slice(1);
  return rows.map((row) => {
    const [file, verdict] = row.split('\t');
    return [file!, verdict === 'true'];
  });
}

const suites: Array<[string, ModelName]> = [
  ['jepsen-etcd', 'cas-register'],
  ['porcupine-kv', 'kv'],
];

for (const [name, model] of suites) {
  const folder = join(corpus, name);
  t.test(`corpus ${name}`, { skip: existsSync(join(folder, 'expected.tsv')) ? false : `corpus folder ${folder} is absent` }, async (t) => {
    const verdicts = expectedVerdicts(folder);
    t.ok(verdicts.length > 0, 'expected.tsv lists files');
    for (const [file, expected] of verdicts) {
      const history = await loadHistoryWithLines(join(folder, file));
      const result = await checkLinearizable(history.ops, { model, initial: null, workers: 1, shrinkTimeMsMax: 100 });
      t.equal(result.valid, expected, `${file} is ${expected ? 'linearizable' : 'not linearizable'}`);
      if (expected === false) {
        const failure = result.failures[0];
        t.ok(failure !== undefined && failure.minimalHistory !== undefined && failure.minimalHistory.length > 0, `${file} has a shrunk failing history`);
      }
    }
  });
}
