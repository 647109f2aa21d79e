import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { errorFromAnswer } from '../../../broker-runtime/src/client/errors.js';
import { ERROR_TABLE, type ErrorCode } from '../../../broker-runtime/src/errors/error-table.js';
import * as errors from '../../../broker-runtime/src/errors/errors.js';
import { mapError } from '../../../broker-runtime/src/http/errors.js';

/** One table says every code's status and whether it is retriable; everything else derives from it. */
const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

test('every error factory answers the status and retriable flag of the table', () => {
  const made: errors.YakError[] = [
    errors.invalidJson('x'), errors.invalidRequest('x'), errors.unknownTopic('t'), errors.unknownPartition('t', 3, 1),
    errors.offsetOutOfRange('t', 0, 1, 5), errors.topicExists('t'), errors.messageTooLarge(2, 1), errors.notLeader(null),
    errors.notLeader({ id: 'b', url: 'http://b' }), errors.notEnoughReplicas(1, 2), errors.staleEpoch(1, 2), errors.timeout('x'),
    errors.notCommitted('x'), errors.unavailable('x'), errors.unauthenticated('x'), errors.forbidden('x'), errors.throttled('x', 10),
  ];
  for (const e of made) {
    const spec = ERROR_TABLE[e.code];
    assert.equal(e.status, spec.status, e.code);
    assert.equal(e.retriable, spec.retriable, e.code);
    assert.equal(mapError(e, () => {}).status, spec.status, e.code);
  }
});

test('the client retries exactly the codes the table calls retriable', () => {
  for (const [code, spec] of Object.entries(ERROR_TABLE) as [ErrorCode, (typeof ERROR_TABLE)[ErrorCode]][]) {
    const err = errorFromAnswer(spec.status, JSON.stringify({ error: code, message: 'm', retry_after_ms: 5, log_start_offset: 0 }), 'call');
    assert.equal(err.retriable, spec.retriable, code);
  }
});

test('the README lists every code with its status', () => {
  for (const [code, spec] of Object.entries(ERROR_TABLE)) {
    assert.ok(README.includes(`${spec.status} ${code}`), `README names \`${spec.status} ${code}\``);
  }
});

test('the errors a newcomer meets first say what to do: an unknown topic names how to list and create one', () => {
  assert.equal(errors.unknownTopic('orderz').message, "topic 'orderz' does not exist; GET /topics lists the topics, and a produce (or POST /topics) creates one");
});
