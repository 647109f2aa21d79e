import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { YakClientError, YakRetriesExhaustedError, YakUnauthenticatedError } from '../../../broker-runtime/src/client/index.js';
import { describeFailure } from '../../../broker-runtime/src/cli-tool/failure.js';
import { table } from '../../../broker-runtime/src/cli-tool/io.js';
import { compileFormat, jsonLine, type Located } from '../../../broker-runtime/src/cli-tool/record-format.js';
import { UsageError } from '../../../broker-runtime/src/cli-tool/usage-error.js';

const record: Located = { topic: 'orders', partition: 1, record: { offset: 7, key: 'customer-7', payload: { total: 42 }, timestamp: 1000, headers: { a: 'b', c: 'd' } } };

describe('yak output', () => {
  test('kcat-style formats: every token, escapes, %%; strings print as text, other JSON as JSON', () => {
    assert.equal(compileFormat('%t/%p@%o %k=%s [%h] %S %T 100%%\\n')(record), 'orders/1@7 customer-7={"total":42} [a=b,c=d] 12 1000 100%\n');
    assert.equal(compileFormat('%s|%k\\t')({ ...record, record: { ...record.record, payload: 'plain "text"', key: null } }), 'plain "text"|\t');
    assert.throws(() => compileFormat('%x'), UsageError);
  });

  test('--json: one object per line with everything the broker returned', () => {
    const line = jsonLine(record);
    assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'));
    assert.deepEqual(JSON.parse(line), { topic: 'orders', partition: 1, offset: 7, key: 'customer-7', payload: { total: 42 }, timestamp: 1000, headers: { a: 'b', c: 'd' } });
  });

  test('tables align columns', () => {
    assert.equal(table([['A', 'BB'], ['ccc', 'd']]), 'A    BB\nccc  d\n');
  });

  test('failures name the problem and the fix: token missing or refused, no broker reachable', () => {
    const brokers = ['http://h:1'];
    assert.match(describeFailure(new YakUnauthenticatedError('this broker needs a token'), { brokers, hasToken: false }), /needs a token.*--token.*YAK_TOKEN/);
    assert.match(describeFailure(new YakUnauthenticatedError('not valid'), { brokers, hasToken: true }), /did not accept the token/);
    const refused = new YakClientError('CONNECTION_FAILED', 0, 'GET http://h:1/topics failed: connect ECONNREFUSED', true);
    const exhausted = new YakRetriesExhaustedError('GET /topics', 3, [{ url: 'http://h:1/topics', outcome: 'CONNECTION_FAILED' }], refused, 120);
    assert.match(describeFailure(exhausted, { brokers, hasToken: false }), /^no broker reachable at http:\/\/h:1 \(gave up after 3 tries; last: CONNECTION_FAILED/);
    const noLeader = new YakClientError('NO_LEADER', 0, 'no seed named a reachable leader', true);
    const viaDiscovery = new YakRetriesExhaustedError('POST /produce/batch', 2, [{ url: 'http://h:1/metadata/leader', outcome: 'CONNECTION_FAILED' }], noLeader, 50);
    assert.match(describeFailure(viaDiscovery, { brokers, hasToken: false }), /^no broker reachable at http:\/\/h:1/);
    // Brokers that answer but name no leader (none reaches Redis): say where to look, not just "no leader".
    const answered = new YakRetriesExhaustedError('POST /produce/batch', 11, [{ url: 'http://h:1/metadata/leader', outcome: 'NO_LEADER' }], noLeader, 5000);
    assert.match(describeFailure(answered, { brokers, hasToken: false }), /^the cluster has no leader \(gave up after 11 tries; .*\); brokers elect one within seconds of reaching Redis: check that redis-server runs and every broker's --redis, and see GET \/health \(degraded_reasons\)/);
    const refusedAnswer = new YakClientError('UNKNOWN_PARTITION', 404, "topic 't' has no partition 9", false);
    assert.equal(describeFailure(refusedAnswer, { brokers, hasToken: false }), "404 UNKNOWN_PARTITION: topic 't' has no partition 9");
  });
});
