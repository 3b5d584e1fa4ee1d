// Benchmark of the hot RPC codecs: the hand-written LogForward and Batch codecs against the
// reflective protobuf-es path (fromBinary/toBinary plus convert.ts and zod) they replace. Prints
// CPU nanoseconds per record or item for each and writes them to bench/results/transport-wire.json
// (or the path given as the first argument).
// Run: `make bench-wire`.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { TailBitmap } from '../server/core/bitmap.js';
import type { LogRecord, Message } from '../server/core/types.js';
import { HeaderSchema } from '../proto/gen/traft/v1/common_pb.js';
import { LogForwardRequestSchema, LogForwardResponseSchema, LogRecordSchema } from '../proto/gen/traft/v1/peer_pb.js';
import { BatchReplySchema, BatchRequestSchema, ReplyStatus } from '../proto/gen/traft/v1/kv_pb.js';
import { encodeBatchItem, encodeBatchRequest } from '../server/client/wire.js';
import { encodeLogForwardRequest, encodeRecord, fromWireReply, fromWireRequest, toWireRecord, toWireReply, toWireRequest } from '../server/transport/convert.js';
import { decodeLogForwardRequest, decodeLogForwardResponse, encodeLogForwardResponse } from '../server/transport/peer-wire.js';
import { decodeBatchRequest, encodeBatchReply, type KvReplyFields } from '../server/transport/kv-wire.js';
import { jsonValueSchema, parseJsonField } from '../server/transport/json-wire.js';
import { parseJsonValueText } from '../server/transport/command-json.js';

/** Records per LogForward and items per Batch in the benchmark messages (an assumed size, not measured from a run). */
const RECORDS_PER_MESSAGE = 32;
/** CPU time spent on each measured case, after a warm-up of the same length. */
const RUN_CPU_MS = 1_000;

interface Figure {
  name: string;
  value: number;
  unit: string;
}

/** Runs `body` repeatedly for about RUN_CPU_MS of CPU time and returns CPU ns per call. */
function cpuNsPerCall(body: () => void): number {
  const measure = (): number => {
    const start = process.cpuUsage();
    let calls = 0;
    let usedUs = 0;
    while (usedUs < RUN_CPU_MS * 1000) {
      for (let i = 0; i < 100; i++) body();
      calls += 100;
      const used = process.cpuUsage(start);
      usedUs = used.user + used.system;
    }
    return (usedUs * 1000) / calls;
  };
  measure();
  return measure();
}

function record(seq: number): LogRecord {
  return {
    seq,
    author: { term: 3, id: 1 },
    command: { kind: 'put', key: `k${seq % 50}`, value: seq },
    client: { clientId: `client-${seq % 300}`, seq: seq * 3 },
    depends: TailBitmap.of(seq - 40, seq - 7),
    overrides: TailBitmap.of(seq - 40, seq - 7),
  };
}

function benchLogForward(figures: Figure[]): void {
  const records = Array.from({ length: RECORDS_PER_MESSAGE }, (_, k) => record(100_000 + k));
  const message: Extract<Message, { type: 'log-forward' }> = {
    clusterId: 'bench',
    from: 1,
    to: 2,
    requestId: 77,
    type: 'log-forward',
    ballot: { term: 3, id: 1 },
    base: TailBitmap.prefix(99_000),
    records,
    committed: TailBitmap.of(99_990, 99_995),
    floor: 90_000,
  };
  const bytes = encodeLogForwardRequest(message);
  const perRecord = (ns: number) => ns / RECORDS_PER_MESSAGE;

  const encodeRecordReflective = cpuNsPerCall(() => {
    toBinary(LogRecordSchema, toWireRecord(records[0] as LogRecord));
  });
  const encodeRecordHand = cpuNsPerCall(() => {
    encodeRecord(records[0] as LogRecord);
  });
  // Each follower gets its own request; the record bytes are encoded once and cached.
  const encodeRequestReflective = cpuNsPerCall(() => {
    toBinary(LogForwardRequestSchema, toWireRequest(message).request as never);
  });
  const encodeRequestHand = cpuNsPerCall(() => {
    encodeLogForwardRequest(message);
  });
  figures.push({ name: 'LogRecord encode, reflective', value: encodeRecordReflective, unit: 'ns/record' });
  figures.push({ name: 'LogRecord encode, hand-written', value: encodeRecordHand, unit: 'ns/record' });
  figures.push({ name: 'LogForwardRequest encode, reflective', value: perRecord(encodeRequestReflective), unit: 'ns/record' });
  figures.push({ name: 'LogForwardRequest encode, hand-written, cached records', value: perRecord(encodeRequestHand), unit: 'ns/record' });

  const reflective = cpuNsPerCall(() => {
    fromWireRequest({ method: 'logForward', request: fromBinary(LogForwardRequestSchema, bytes) }, 'bench', 2);
  });
  const hand = cpuNsPerCall(() => {
    decodeLogForwardRequest(bytes, 'bench', 2);
  });
  figures.push({ name: 'LogForwardRequest decode, reflective + zod', value: perRecord(reflective), unit: 'ns/record' });
  figures.push({ name: 'LogForwardRequest decode, hand-written', value: perRecord(hand), unit: 'ns/record' });

  const reply: Extract<Message, { type: 'log-forward-reply' }> = {
    clusterId: 'bench',
    from: 2,
    to: 1,
    requestId: 77,
    type: 'log-forward-reply',
    ballot: { term: 3, id: 1 },
    status: 'ok',
    votedFor: { term: 3, id: 1 },
    committer: { term: 3, id: 1 },
    accepted: TailBitmap.of(100_000, 100_004),
    committed: TailBitmap.of(99_990, 99_995),
    applied: TailBitmap.prefix(99_980),
  };
  const replyBytes = encodeLogForwardResponse(reply);
  const encodeReflective = cpuNsPerCall(() => {
    toBinary(LogForwardResponseSchema, create(LogForwardResponseSchema, { reply: toWireReply(reply).reply as never }));
  });
  const encodeHand = cpuNsPerCall(() => {
    encodeLogForwardResponse(reply);
  });
  const decodeReflective = cpuNsPerCall(() => {
    const response = fromBinary(LogForwardResponseSchema, replyBytes);
    if (response.reply) fromWireReply({ method: 'logForward', reply: response.reply }, 'bench', 1);
  });
  const decodeHand = cpuNsPerCall(() => {
    decodeLogForwardResponse(replyBytes, 'bench', 1);
  });
  figures.push({ name: 'LogForwardResponse encode, reflective', value: encodeReflective, unit: 'ns/reply' });
  figures.push({ name: 'LogForwardResponse encode, hand-written', value: encodeHand, unit: 'ns/reply' });
  figures.push({ name: 'LogForwardResponse decode, reflective', value: decodeReflective, unit: 'ns/reply' });
  figures.push({ name: 'LogForwardResponse decode, hand-written', value: decodeHand, unit: 'ns/reply' });
}

function benchBatch(figures: Figure[]): void {
  const items = Array.from({ length: RECORDS_PER_MESSAGE }, (_, k) =>
    k % 2 === 0
      ? encodeBatchItem({ kind: 'put', key: `k${k}`, valueJson: String(k) }, { clientId: `client-${k}`, seq: k + 1 })
      : encodeBatchItem({ kind: 'get', key: `k${k}`, consistency: 1 }, undefined),
  );
  const bytes = encodeBatchRequest(create(HeaderSchema, { clusterId: 'bench', fromId: 0, requestId: 5n }), items);
  const perItem = (ns: number) => ns / RECORDS_PER_MESSAGE;

  const reflective = cpuNsPerCall(() => {
    const request = fromBinary(BatchRequestSchema, bytes);
    for (const item of request.items) {
      if (item.request.case === 'put') parseJsonField(jsonValueSchema, item.request.value.valueJson, 'value_json');
    }
  });
  const hand = cpuNsPerCall(() => {
    const request = decodeBatchRequest(bytes);
    for (const item of request.items) {
      if (item?.case === 'put') parseJsonValueText(item.value.valueJson, 'value_json');
    }
  });
  figures.push({ name: 'BatchRequest decode + value check, reflective + zod', value: perItem(reflective), unit: 'ns/item' });
  figures.push({ name: 'BatchRequest decode + value check, hand-written', value: perItem(hand), unit: 'ns/item' });

  const replies: KvReplyFields[] = Array.from({ length: RECORDS_PER_MESSAGE }, (_, k) => ({
    status: ReplyStatus.OK,
    leaderId: 0,
    leaderAddr: '',
    reason: '',
    resultJson: k % 2 === 0 ? '{"kind":"done"}' : `{"kind":"value","value":${k}}`,
    lsn: 100_000 + k,
  }));
  const header = { clusterId: 'bench', fromId: 1, toId: 0, requestId: 5 };
  const encodeReflective = cpuNsPerCall(() => {
    toBinary(
      BatchReplySchema,
      create(BatchReplySchema, {
        header: { ...header, requestId: BigInt(header.requestId) },
        replies: replies.map((reply) => ({ ...reply, lsn: BigInt(reply.lsn) })),
      }),
    );
  });
  const encodeHand = cpuNsPerCall(() => {
    encodeBatchReply(header, replies);
  });
  figures.push({ name: 'BatchReply encode, reflective', value: perItem(encodeReflective), unit: 'ns/item' });
  figures.push({ name: 'BatchReply encode, hand-written', value: perItem(encodeHand), unit: 'ns/item' });
}

async function main(): Promise<void> {
  const outPath = process.argv[2] ?? 'bench/results/transport-wire.json';
  const figures: Figure[] = [];
  benchLogForward(figures);
  benchBatch(figures);
  for (const figure of figures) {
    console.log(`${figure.name.padEnd(55)} ${figure.value.toFixed(0).padStart(8)} ${figure.unit}`);
  }
  await mkdir(dirname(outPath), { recursive: true });
  await writeFile(outPath, `${JSON.stringify({ recordsPerMessage: RECORDS_PER_MESSAGE, figures }, null, 2)}\n`);
  console.log(`wrote ${outPath}`);
}

await main();
