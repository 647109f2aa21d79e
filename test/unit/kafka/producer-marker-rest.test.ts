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
