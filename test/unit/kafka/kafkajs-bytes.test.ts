import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { decodeBatches, encodeBatch } from '../../../broker-runtime/src/kafka/protocol/record-batch.js';

/**
 * The codecs against a real client's own: KafkaJS 2.2.4's RecordBatch encoder and decoder
 * (src/protocol/recordBatch/v0), the code that builds what its producer sends and reads what its
 * consumer gets.
 */
const require = createRequire(import.meta.url);
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch: (o: unknown) => Promise<{ buffer: Buffer }> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (o: unknown) => unknown;
const decodeKafkaJs = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (d: unknown) => Promise<{ records: { key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer>; offset: string; timestamp: string }[] }>;
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => unknown;

test('a batch KafkaJS encodes (keys, values, headers, timestamps) decodes to the same records here', async () => {
  const first = 1_700_000_000_000;
  const records = [
    Record({ offsetDelta: 0, timestampDelta: 0, key: Buffer.from('k1'), value: Buffer.from('{"a":1}'), headers: { h: Buffer.from('v') } }),
    Record({ offsetDelta: 1, timestampDelta: 25, key: null, value: Buffer.from([0xff, 0x00]), headers: {} }),
    Record({ offsetDelta: 2, timestampDelta: 7, key: Buffer.from(''), value: null, headers: { a: Buffer.from('1'), b: Buffer.from('2') } }),
  ];
  const batch = await RecordBatch({ firstTimestamp: first, maxTimestamp: first + 25, lastOffsetDelta: 2, records });
  const [decoded] = decodeBatches(batch.buffer, 0);
  assert.deepEqual(decoded!.records, [
    { timestamp: first, key: Buffer.from('k1'), value: Buffer.from('{"a":1}'), headers: [{ key: Buffer.from('h'), value: Buffer.from('v') }] },
    { timestamp: first + 25, key: null, value: Buffer.from([0xff, 0x00]), headers: [] },
    { timestamp: first + 7, key: Buffer.from(''), value: null, headers: [{ key: Buffer.from('a'), value: Buffer.from('1') }, { key: Buffer.from('b'), value: Buffer.from('2') }] },
  ]);
});

test('a batch encoded here is what KafkaJS decodes: offsets, timestamps, keys, values, headers', async () => {
  const bytes = encodeBatch([
    { offset: 41, timestamp: 1000, key: Buffer.from('k'), value: Buffer.from('v1'), headers: [{ key: Buffer.from('trace'), value: Buffer.from('x') }] },
    { offset: 42, timestamp: 990, key: null, value: null, headers: [] },
  ], 3).toBuffer();
  const batch = await decodeKafkaJs(new Decoder(bytes));
  assert.equal(batch.records.length, 2);
  const [a, b] = batch.records;
  assert.equal(a!.offset, '41');
  assert.equal(a!.timestamp, '1000');
  assert.deepEqual(a!.key, Buffer.from('k'));
  assert.deepEqual(a!.value, Buffer.from('v1'));
  assert.deepEqual(a!.headers, { trace: Buffer.from('x') });
  assert.equal(b!.offset, '42');
  assert.equal(b!.timestamp, '990');
  assert.equal(b!.key, null);
  assert.equal(b!.value, null);
});
