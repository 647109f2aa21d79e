/**
 * The Kafka listener's Fetch encoding, per record, in CPU time: the numbers behind the choice in
 * the README ("One log for both worlds") and bench/README.md.
 *
 *   node --import tsx bench/kafka-fetch-encoding.ts
 *
 * - objects:    the former path: decode stored records into objects (log read()), map each
 *               (toOutgoingRecord), encode a RecordBatch v2 with its CRC-32C
 * - from bytes: kafkaBatchesOf, the Fetch path now: RecordBatch v2 written straight from the
 *               stored bytes (apis/fetch-batches.ts)
 * - cache hit:  whole blocks of CACHE_BLOCK records found in the cache of encoded batches
 *               (apis/fetch-cache.ts): a walk over the stored entries and one copy per block
 * - CRC-32C:    byte-at-a-time table against slicing by 8, per record's bytes
 * Stored batches of 500 records, 100-byte JSON values (keyless, no headers: what the bench
 * produces) and the same with a key and a header; compressed batches (gzip, lz4) sent as compressed
 * Kafka batches against decompressed and sent plain. Median of 7 rounds.
 */
import { CACHE_BLOCK, kafkaBatchesOf } from '../broker-runtime/src/kafka/apis/fetch-batches.js';
import { EncodedBatchCache, FETCH_CACHE_BYTES } from '../broker-runtime/src/kafka/apis/fetch-cache.js';
import { crc32c } from '../broker-runtime/src/kafka/protocol/crc32c.js';
import { encodeBatch } from '../broker-runtime/src/kafka/protocol/record-batch.js';
import { toOutgoingRecord } from '../broker-runtime/src/kafka/record-mapping.js';
import { codecByName } from '../broker-runtime/src/log/compression/index.js';
import { decodeRecords, encodeCompressedBatch, encodeRecords, expandEntries } from '../broker-runtime/src/log/record-codec.js';
import type { RecordInput } from '../broker-runtime/src/log/types.js';

const PER_BATCH = 500;
const BATCHES = 100;
const ROUNDS = 7;

function measure(name: string, fn: () => void, perCall = PER_BATCH): number {
  for (let i = 0; i < 10; i++) fn();
  const ns: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const before = process.cpuUsage();
    for (let i = 0; i < BATCHES; i++) fn();
    const used = process.cpuUsage(before);
    ns.push(((used.user + used.system) * 1000) / (BATCHES * perCall));
  }
  ns.sort((a, b) => a - b);
  const m = ns[ROUNDS >> 1]!;
  console.log(`${name.padEnd(56)} ${m.toFixed(0).padStart(6)} ns per record (min ${ns[0]!.toFixed(0)}, max ${ns[ROUNDS - 1]!.toFixed(0)})`);
  return m;
}

/** The former Fetch path, kept here to measure against. */
function viaObjects(stored: Buffer): Buffer {
  const records = decodeRecords(stored);
  return encodeBatch(records.map(toOutgoingRecord), records[0]!.epoch).toBuffer();
}

function crc32cBytewise(bytes: Uint8Array): number {
  let crc = -1;
  for (let i = 0; i < bytes.length; i++) crc = BYTE_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}
const BYTE_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c;
  }
  return t;
})();

const now = 1_700_000_000_000;
const value = (i: number) => JSON.stringify({ n: i, text: 'x'.repeat(80) }).slice(0, 100);
const shapes: [string, (i: number) => RecordInput][] = [
  ['keyless, no headers', (i) => ({ key: null, payload: value(i), headers: {}, timestamp: now + i })],
  ['key + 1 header', (i) => ({ key: `key-${i}`, payload: value(i), headers: { trace: 'abc' }, timestamp: now + i })],
  ['not JSON (yak.value marker)', (i) => ({ key: null, payload: JSON.stringify(`line ${i} `.padEnd(100, '.')), headers: { 'yak.value': 'text' }, timestamp: now + i })],
];
const many = (make: (i: number) => RecordInput, n: number) => Array.from({ length: n }, (_, i) => make(i));
for (const [label, make] of shapes) {
  const stored = encodeRecords(many(make, PER_BATCH), 0, 1);
  if (!kafkaBatchesOf(stored, PER_BATCH, 0, PER_BATCH, 10_000)!.equals(viaObjects(stored))) throw new Error(`${label}: the two encodings differ`);
  const encoded = viaObjects(stored);
  const objects = measure(`objects (${label})`, () => viaObjects(stored));
  const bytes = measure(`from bytes (${label})`, () => kafkaBatchesOf(stored, PER_BATCH, 0, PER_BATCH, 10_000));
  console.log(`${''.padEnd(56)} ${(objects / bytes).toFixed(1)}× less CPU from bytes`);
  // Two whole blocks (CACHE_BLOCK records each) of the same records, read through a warm cache.
  const blocks = encodeRecords(many(make, 2 * CACHE_BLOCK), 0, 1);
  const use = { cache: new EncodedBatchCache(FETCH_CACHE_BYTES), log: 1 };
  kafkaBatchesOf(blocks, 2 * CACHE_BLOCK, 0, 2 * CACHE_BLOCK, 10_000, use);
  measure(`cache hit: whole blocks from the cache (${label})`, () => kafkaBatchesOf(blocks, 2 * CACHE_BLOCK, 0, 2 * CACHE_BLOCK, 10_000, use), 2 * CACHE_BLOCK);
  measure(`CRC-32C byte at a time (${label})`, () => crc32cBytewise(encoded));
  measure(`CRC-32C sliced by 8 (${label})`, () => crc32c(encoded));
}

for (const name of ['gzip', 'lz4'] as const) {
  const records = many(shapes[0]![1], PER_BATCH);
  const stored = encodeCompressedBatch(records, 0, 1, codecByName(name)!);
  const out = kafkaBatchesOf(stored, PER_BATCH, 0, PER_BATCH, 10_000)!;
  console.log(`${name}: stored ${stored.length} bytes, Kafka batch ${out.length} bytes compressed, ${viaObjects(encodeRecords(records, 0, 1)).length} plain`);
  measure(`${name}: decompress, send plain (former path)`, () => {
    const expanded = expandEntries(stored, 0, PER_BATCH, 10_000);
    viaObjects(Buffer.concat(expanded.buffers));
  });
  measure(`${name}: decompress, send plain from bytes (past the HWM)`, () => kafkaBatchesOf(stored, PER_BATCH, 0, PER_BATCH - 1, 10_000));
  measure(`${name}: decompress, re-encode, compress for Kafka`, () => kafkaBatchesOf(stored, PER_BATCH, 0, PER_BATCH, 10_000));
  const use = { cache: new EncodedBatchCache(FETCH_CACHE_BYTES), log: 1 };
  kafkaBatchesOf(stored, PER_BATCH, 0, PER_BATCH, 10_000, use);
  measure(`${name}: the compressed Kafka batch from the cache`, () => kafkaBatchesOf(stored, PER_BATCH, 0, PER_BATCH, 10_000, use));
}
