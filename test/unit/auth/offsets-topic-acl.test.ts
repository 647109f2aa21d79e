import assert from 'node:assert/strict';
import { test } from 'node:test';
import { permit } from '../../../broker-runtime/src/auth/gate.js';
import { GROUPS_TOPIC, maySee, type Principal } from '../../../broker-runtime/src/auth/principal.js';
import { TopicPatterns } from '../../../broker-runtime/src/auth/topic-pattern.js';
import { OFFSETS_TOPIC } from '../../../broker-runtime/src/groups/offsets-log.js';

/**
 * `groups` patterns are the group ACL: a principal limited to `team-b.*` is refused DescribeGroups,
 * OffsetFetch and GET /groups/{g} for every other group. But every group's commits and generations
 * (members, their principals and subscriptions) are records of `__consumer_offsets`, and
 * `consume: ["*"]` matched it: the same principal read every other team's offsets and members by
 * consuming the internal topic (GET /consume, a Kafka Fetch). A principal with `groups` patterns
 * now may not consume or see `__consumer_offsets`; without them (any group allowed) nothing changes.
 */
const principal = (o: { consume: string[]; groups?: string[]; admin?: boolean }): Principal => ({
  name: 'p', secretHash: null as never, produce: new TopicPatterns([]), consume: new TopicPatterns(o.consume), admin: o.admin ?? false, inBytesPerSecond: null, outBytesPerSecond: null,
  ...(o.groups ? { groups: new TopicPatterns(o.groups) } : {}),
});

test('a principal limited to some groups cannot read the offsets topic, which holds every group', () => {
  assert.equal(GROUPS_TOPIC, OFFSETS_TOPIC);
  const teamB = principal({ consume: ['*'], groups: ['team-b.*'] });
  assert.throws(() => permit(teamB, { op: 'consume', topic: OFFSETS_TOPIC }), /every consumer group/);
  assert.equal(maySee(teamB, OFFSETS_TOPIC), false);
  permit(teamB, { op: 'consume', topic: 'orders' });
  assert.equal(maySee(teamB, 'orders'), true);
  // Any group allowed (no patterns), or an admin (any group): as before.
  permit(principal({ consume: ['*'] }), { op: 'consume', topic: OFFSETS_TOPIC });
  permit(principal({ consume: ['*'], groups: ['team-b.*'], admin: true }), { op: 'consume', topic: OFFSETS_TOPIC });
  assert.equal(maySee(principal({ consume: ['*'] }), OFFSETS_TOPIC), true);
});
