// Worker-thread entry: checks a batch of keys and posts back one report per key.
import { parentPort } from 'node:worker_threads';
import { checkKey, UnsupportedOpError, type KeyCheckConfig, type KeyReport } from './check-key.js';
import { decodeKeys, type EncodedKeys } from './codec.js';

export interface WorkerJob {
  config: KeyCheckConfig;
  keys: EncodedKeys;
}

export type WorkerReply =
  | { ok: true; reports: KeyReport[] }
  | { ok: false; unsupported?: { opIndex: number; reason: string }; message: string };

parentPort?.on('message', (job: WorkerJob) => {
  let reply: WorkerReply;
  try {
    reply = { ok: true, reports: decodeKeys(job.keys).map(([key, pairs]) => checkKey(key, pairs, job.config)) };
  } catch (error) {
    if (error instanceof UnsupportedOpError) {
      reply = { ok: false, unsupported: { opIndex: error.opIndex, reason: error.reason }, message: error.message };
    } else {
      reply = { ok: false, message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    }
  }
  parentPort!.postMessage(reply);
});
