import assert from 'node:assert/strict';
import { test } from 'node:test';
import { YakError } from '../../../broker-runtime/src/errors/errors.js';
import { parseBatch, parseProduce } from '../../../broker-runtime/src/http/validate.js';

/** The idempotent producers' marker (kafka/idempotence/producer-marker.ts) cannot be forged over REST: a new leader trusts it. */
test('a REST produce with a yak.producer header is refused INVALID_REQUEST; other yak.* markers still pass', () => {
  const forged = { topic: 't', payload: 1, headers: { 'yak.producer': '4194304 0 0 1' } };
  assert.throws(() => parseProduce(forged, 1 << 20), (e: unknown) => e instanceof YakError && e.code === 'INVALID_REQUEST' && /yak\.producer/.test(e.message));
  assert.throws(() => parseBatch({ topic: 't', records: [{ payload: 1 }, { payload: 2, headers: { 'yak.producer': '1 0 0 1' } }] }, 1 << 20), /records\[1\]|yak\.producer/);
  assert.doesNotThrow(() => parseProduce({ topic: 't', payload: 'x', headers: { 'yak.value': 'text' } }, 1 << 20));
});

/** The other way in: a Kafka client's own header named like a marker is escaped into `yak.headers`, never stored as the marker. */
test('a Kafka record with its own yak.producer header (alone, among others, or without a value) is stored without a marker a new leader would read', async () => {
  const { toProduceRecord, toOutgoingRecord } = await import('../../../broker-runtime/src/kafka/record-mapping.js');
  const { parseMarker, PRODUCER_MARKER } = await import('../../../broker-runtime/src/kafka/idempotence/producer-marker.js');
  for (const headers of [
    [{ key: Buffer.from('yak.producer'), value: Buffer.from('4194304 0 0 1') }],
    [{ key: Buffer.from('trace'), value: Buffer.from('x') }, { key: Buffer.from('yak.producer'), value: Buffer.from('1 0 0 5') }],
    [{ key: Buffer.from('yak.producer'), value: null }],
  ]) {
    const stored = toProduceRecord({ timestamp: 1, key: null, value: Buffer.from('1'), headers }, 0);
    assert.equal(Object.hasOwn(stored.headers, PRODUCER_MARKER), false, JSON.stringify(stored.headers));
    assert.equal(parseMarker(stored.headers[PRODUCER_MARKER]), null);
    // A Kafka consumer still gets the client's headers back exactly.
    const back = toOutgoingRecord({ offset: 0, epoch: 1, timestamp: 1, key: null, payload: stored.payload, headers: stored.headers });
    assert.deepEqual(back.headers.map((h) => [h.key.toString(), h.value?.toString() ?? null]), headers.map((h) => [h.key.toString(), h.value?.toString() ?? null]));
  }
});
