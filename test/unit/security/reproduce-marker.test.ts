import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBatch } from '../../../broker-runtime/src/http/validate.js';
import { PRODUCER_MARKER } from '../../../broker-runtime/src/kafka/idempotence/producer-marker.js';
import { reproducibleHeaders } from '../../../src/renderer/src/lib/reproduce.js';

/**
 * Re-producing records the desktop app consumed: a record written by an idempotent Kafka producer
 * carries the broker's `yak.producer` marker, which REST consumers see and REST producers may not
 * send. The copy drops it (before, re-producing such a record was refused with 400), and keeps
 * every other header, the other `yak.*` markers included (they keep the copy the same for Kafka
 * consumers and are not trusted by anyone).
 */
test('a re-produced copy drops the producer marker and keeps every other header; the broker accepts it', () => {
  const consumed = { [PRODUCER_MARKER]: '4194304 0 0 3', 'yak.value': 'text', trace: 'abc' };
  const headers = reproducibleHeaders(consumed);
  assert.deepEqual(headers, { 'yak.value': 'text', trace: 'abc' });
  assert.equal(consumed[PRODUCER_MARKER], '4194304 0 0 3', 'the consumed record is not changed');
  assert.throws(() => parseBatch({ topic: 't', records: [{ payload: 1, headers: consumed }] }, 1 << 20), /yak\.producer/, 'the verbatim copy is refused');
  assert.doesNotThrow(() => parseBatch({ topic: 't', records: [{ payload: 1, headers }] }, 1 << 20));
});
