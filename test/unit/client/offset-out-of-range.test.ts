import assert from 'node:assert/strict';
import { test } from 'node:test';
import { YakOffsetOutOfRangeError } from '../../../broker-runtime/src/client/index.js';
import { errorFromAnswer } from '../../../broker-runtime/src/client/errors.js';

test('a 416 OFFSET_OUT_OF_RANGE becomes a named, non-retriable error carrying the log start offset', () => {
  const body = JSON.stringify({ error: 'OFFSET_OUT_OF_RANGE', message: 'offset 3 is below the log start offset 120', log_start_offset: 120 });
  const err = errorFromAnswer(416, body, 'GET /consume');
  assert.ok(err instanceof YakOffsetOutOfRangeError);
  assert.equal(err.logStartOffset, 120);
  assert.equal(err.code, 'OFFSET_OUT_OF_RANGE');
  assert.equal(err.status, 416);
  assert.equal(err.retriable, false);
  // Without the offset it is still the broker's code, just not the named error.
  const bare = errorFromAnswer(416, JSON.stringify({ error: 'OFFSET_OUT_OF_RANGE', message: 'x' }), 'GET /consume');
  assert.equal(bare instanceof YakOffsetOutOfRangeError, false);
  assert.equal(bare.code, 'OFFSET_OUT_OF_RANGE');
});
