import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupName, parseCommit, parseHeartbeat, parseJoin, parseReset } from '../../../broker-runtime/src/http/group-validate.js';

const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return `${(err as { code: string }).code}: ${(err as Error).message}`;
  }
  return 'accepted';
};

test('a join names its topics; defaults are range, a 10 s session and a rebalance as long', () => {
  assert.deepEqual(parseJoin({ topics: ['b', 'a', 'a'] }), { memberId: '', clientId: 'rest', topics: ['a', 'b'], strategy: 'range', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000 });
  assert.match(refusal(() => parseJoin({ topics: [] })), /^INVALID_REQUEST: topics is required/);
  assert.match(refusal(() => parseJoin({ topics: ['a'], strategy: 'cooperative' })), /strategy must be one of range, roundrobin, sticky/);
  assert.match(refusal(() => parseJoin({ topics: ['a'], rebalance_timeout_ms: 120_000 })), /rebalance_timeout_ms must be an integer from 100 to 60000/);
  assert.match(refusal(() => parseJoin({ topics: ['a'], sessoin_timeout_ms: 1 })), /unknown field 'sessoin_timeout_ms'/);
  assert.match(refusal(() => parseJoin({ topics: ['bad name'] })), /topics\[0\]/);
});

test("a commit is a member's (id and generation) or an outsider's (neither), never half of each", () => {
  assert.deepEqual(parseCommit({ offsets: [{ topic: 't', partition: 0, offset: 3 }] }), { memberId: '', generation: -1, offsets: [{ topic: 't', partition: 0, offset: 3 }] });
  assert.match(refusal(() => parseCommit({ member_id: 'm', offsets: [{ topic: 't', partition: 0, offset: 3 }] })), /member_id and generation go together/);
  assert.match(refusal(() => parseCommit({ offsets: [{ topic: 't', partition: 0, offset: -1 }] })), /offsets\[0\]\.offset must be an integer/);
  assert.match(refusal(() => parseCommit({ offsets: [{ topic: 't', partition: 0, offset: 1, metadata: 5 }] })), /metadata must be a string/);
  assert.match(refusal(() => parseHeartbeat({ member_id: 'm' })), /generation is required/);
});

test('a reset names where to; partitions need a topic; group names use the topic alphabet', () => {
  assert.deepEqual(parseReset('g', { to: 'timestamp', timestamp: 5, topic: 't', partitions: [2, 1, 2] }), { group: 'g', to: { kind: 'timestamp', timestampMs: 5 }, topic: 't', partitions: [1, 2] });
  assert.match(refusal(() => parseReset('g', { to: 'yesterday' })), /to is required/);
  assert.match(refusal(() => parseReset('g', { to: 'offset' })), /offset is required/);
  assert.match(refusal(() => parseReset('g', { to: 'latest', partitions: [0] })), /partitions needs a topic/);
  assert.match(refusal(() => parseReset('g', { to: 'latest', offset: 3 })), /offset goes with to: 'offset'/);
  assert.match(refusal(() => groupName('a/b')), /not a valid group name/);
  assert.equal(groupName('billing-v2'), 'billing-v2');
});
