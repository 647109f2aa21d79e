import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { toOutgoingRecord, toProduceRecord } from '../../../broker-runtime/src/kafka/record-mapping.js';
import type { KafkaRecord } from '../../../broker-runtime/src/kafka/protocol/record-batch.js';

function roundTrip(r: KafkaRecord) {
  const stored = toProduceRecord(r, 0);
  // What the log keeps and gives back: the headers object goes through JSON, like record-codec.ts.
  const headers = JSON.parse(JSON.stringify(stored.headers)) as Record<string, string>;
  return { stored, back: toOutgoingRecord({ key: stored.key, payload: stored.payload, headers, timestamp: stored.timestamp!, offset: 7, epoch: 1 }) };
}

const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));

test('any Kafka record comes back to a Kafka consumer byte for byte (key, value, headers in order, nulls)', () => {
  fc.assert(
    fc.property(
      fc.option(bytes(16), { nil: null }),
      fc.option(fc.oneof(bytes(40), fc.json().map((j) => Buffer.from(j)), fc.string().map((s) => Buffer.from(s))), { nil: null }),
      fc.array(fc.record({ key: fc.oneof(bytes(8), fc.constantFrom('yak.value', '0', '__proto__', 'base64:x', 'h').map((s) => Buffer.from(s))), value: fc.option(bytes(8), { nil: null }) }), { maxLength: 4 }),
      (key, value, headers) => {
        const { back } = roundTrip({ timestamp: 1, key, value, headers });
        assert.deepEqual(back.key, key);
        assert.deepEqual(back.value, value);
        assert.deepEqual(back.headers, headers.map((h) => ({ key: h.key, value: h.value })));
      },
    ),
  );
});

test('REST consumers see JSON values as they are, other text and bytes marked', () => {
  assert.deepEqual(roundTrip({ timestamp: 1, key: Buffer.from('k'), value: Buffer.from('{"a": 1}'), headers: [] }).stored.payload, '{"a": 1}');
  const text = roundTrip({ timestamp: 1, key: null, value: Buffer.from('hello'), headers: [{ key: Buffer.from('h'), value: Buffer.from('v') }] }).stored;
  assert.equal(text.payload, '"hello"');
  assert.deepEqual(text.headers, { h: 'v', 'yak.value': 'text' });
  const binary = roundTrip({ timestamp: 1, key: Buffer.from([0xff]), value: Buffer.from([0xc3, 0x28]), headers: [] }).stored;
  assert.equal(binary.payload, JSON.stringify(Buffer.from([0xc3, 0x28]).toString('base64')));
  assert.deepEqual(binary.headers, { 'yak.value': 'base64', 'yak.key': 'base64' });
  assert.equal(roundTrip({ timestamp: 1, key: null, value: null, headers: [] }).stored.payload, 'null');
});

test('a REST record reaches Kafka consumers as its JSON text, headers as UTF-8', () => {
  const out = toOutgoingRecord({ key: 'user-1', payload: '{"n":1}', headers: { trace: 'abc' }, timestamp: 5, offset: 0, epoch: 1 });
  assert.deepEqual(out.value, Buffer.from('{"n":1}'));
  assert.deepEqual(out.key, Buffer.from('user-1'));
  assert.deepEqual(out.headers, [{ key: Buffer.from('trace'), value: Buffer.from('abc') }]);
});
