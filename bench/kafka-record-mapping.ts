/**
 * Storing Kafka records as YAK records (what the Kafka listener does) against storing Kafka's
 * batches natively, per record, in CPU time: the numbers behind the README's "One log for both
 * worlds" choice.
 *
 *   node --import tsx bench/kafka-record-mapping.ts
 *
 * - convert in:  CRC-32C check + decode a 500-record RecordBatch v2 + map each record (record-mapping.ts)
 * - convert out: map stored records back + encode a RecordBatch v2 with its CRC-32C (a Fetch answer)
 * - native in:   CRC-32C check + rewrite the base offset and leader epoch (+ recompute nothing: the CRC
 *                does not cover them) — the least a native store must do before appending the batch
 * 100-byte values that are not JSON (the marked, costlier path) and JSON values. Median of 7 rounds.
 */
import { crc32c } from '../broker-runtime/src/kafka/protocol/crc32c.js';
import { decodeBatches, encodeBatch, type OutgoingRecord } from '../broker-runtime/src/kafka/protocol/record-batch.js';
import { toOutgoingRecord, toProduceRecord } from '../broker-runtime/src/kafka/record-mapping.js';
import type { StoredRecord } from '../broker-runtime/src/log/types.js';

const PER_BATCH = 500;
const BATCHES = 200;
const ROUNDS = 7;

function measure(name: string, fn: () => void): void {
  for (let i = 0; i < 20; i++) fn();
  const ns: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const before = process.cpuUsage();
    for (let i = 0; i < BATCHES; i++) fn();
    const used = process.cpuUsage(before);
    ns.push(((used.user + used.system) * 1000) / (BATCHES * PER_BATCH));
  }
  ns.sort((a, b) => a - b);
  console.log(`${name.padEnd(48)} ${ns[ROUNDS >> 1]!.toFixed(0).padStart(6)} ns per record (min ${ns[0]!.toFixed(0)}, max ${ns[ROUNDS - 1]!.toFixed(0)})`);
}

for (const [label, value] of [['text values', 'x'.repeat(100)], ['JSON values', JSON.stringify({ v: 'x'.repeat(90) })]] as const) {
  const records: OutgoingRecord[] = Array.from({ length: PER_BATCH }, (_, i) => ({
    offset: i,
    timestamp: 1_700_000_000_000 + i,
    key: Buffer.from(`key-${i}`),
    value: Buffer.from(value),
    headers: [{ key: Buffer.from('trace'), value: Buffer.from('abc') }],
  }));
  const batch = encodeBatch(records, 1).toBuffer();
  const stored: StoredRecord[] = decodeBatches(batch, 0)[0]!.records.map((r, i) => {
    const p = toProduceRecord(r, 0);
    return { key: p.key, payload: p.payload, headers: p.headers, timestamp: p.timestamp!, offset: i, epoch: 1 };
  });
  measure(`convert in (${label})`, () => {
    for (const r of decodeBatches(batch, 0)[0]!.records) toProduceRecord(r, 0);
  });
  measure(`convert out (${label})`, () => {
    encodeBatch(stored.map(toOutgoingRecord), 1);
  });
  measure(`native in (${label})`, () => {
    if (crc32c(batch.subarray(21)) !== batch.readUInt32BE(17)) throw new Error('crc');
    batch.writeInt32BE(1, 12);
  });
}
