import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Principal } from '../../../broker-runtime/src/auth/principal.js';
import { TopicPatterns } from '../../../broker-runtime/src/auth/topic-pattern.js';
import { YakError } from '../../../broker-runtime/src/errors/errors.js';
import { GroupCoordinator, type CoordinatorHost } from '../../../broker-runtime/src/groups/index.js';
import type { StoredRecord } from '../../../broker-runtime/src/groups/offsets-log.js';
import { handleHeartbeat, handleJoinGroup, handleLeaveGroup } from '../../../broker-runtime/src/kafka/apis/groups/membership.js';
import { handleDescribeGroups, handleListGroups } from '../../../broker-runtime/src/kafka/apis/groups/describe.js';
import type { KafkaAuth, KafkaBackend } from '../../../broker-runtime/src/kafka/backend.js';
import type { RequestContext } from '../../../broker-runtime/src/kafka/context.js';
import { Reader } from '../../../broker-runtime/src/kafka/protocol/reader.js';

/**
 * Security review, over the Kafka protocol: a member belongs to the principal that joined it
 * (Heartbeat/LeaveGroup naming it from another principal: GROUP_AUTHORIZATION_FAILED, 30, nothing
 * changes), and a principal's `groups` patterns limit the groups it may join.
 */
const log: StoredRecord[] = [];
const host: CoordinatorHost = {
  now: () => 1_000_000,
  append: async (records) => void log.push(...records),
  readOffsetsTopic: async function* () {
    for (const r of [...log]) yield r.payload;
  },
  partitionCount: () => 1,
  highWatermark: () => 10,
  logStartOffset: () => 0,
  offsetForTimestamp: async () => 0,
  notCoordinator: () => YakError.of('NOT_LEADER', 'not the leader'),
  log: () => {},
};
const principal = (name: string, groups?: string[]): Principal => ({
  name, secretHash: null as never, produce: new TopicPatterns([]), consume: new TopicPatterns(['*']), admin: false, inBytesPerSecond: null, outBytesPerSecond: null,
  ...(groups ? { groups: new TopicPatterns(groups) } : {}),
});
const auth: KafkaAuth = { authenticate: () => Promise.reject(new Error('unused')), current: (principal) => principal, check: () => null, maySee: () => true, charge: () => 0 };

test('Kafka group APIs: another principal cannot heartbeat or leave as a member (30); groups patterns limit joins (30)', async () => {
  const groups = new GroupCoordinator(host, { tickMs: 0 });
  groups.activate();
  while (!groups.isActive()) await new Promise((r) => setImmediate(r));
  const backend = { groups } as unknown as KafkaBackend;
  const ctx = (p: Principal, apiVersion = 2): RequestContext => ({ backend, auth, principal: p, apiVersion, clientId: 'c', log: () => {}, throttle: () => {} });
  const joinReq = { group: 'g', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 300, memberId: '', protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.from('x') }] };
  const joined = new Reader((await handleJoinGroup(joinReq, ctx(principal('alice')))).toBuffer());
  joined.int32();
  assert.equal(joined.int16(), 0, 'alice joins');
  const generation = joined.int32();
  joined.string();
  joined.string();
  const memberId = joined.string();
  const hb = new Reader((await handleHeartbeat({ group: 'g', generation, memberId }, ctx(principal('mallory'), 1))).toBuffer());
  hb.int32();
  assert.equal(hb.int16(), 30, 'heartbeat as alice from mallory');
  await handleLeaveGroup({ group: 'g', members: [{ memberId, instanceId: null }] }, ctx(principal('mallory'), 1));
  assert.deepEqual(groups.describe('g').members.map((m) => m.member_id), [memberId], 'alice is still a member');
  const teamB = new Reader((await handleJoinGroup({ ...joinReq, group: 'a.billing' }, ctx(principal('team-b', ['b.*'])))).toBuffer());
  teamB.int32();
  assert.equal(teamB.int16(), 30, 'a group outside its patterns');
  groups.deactivate();
});

test('Kafka ListGroups and DescribeGroups show a principal only the groups its patterns allow (30 for the others, existing or not)', async () => {
  const groups = new GroupCoordinator(host, { tickMs: 0 });
  groups.activate();
  while (!groups.isActive()) await new Promise((r) => setImmediate(r));
  const backend = { groups } as unknown as KafkaBackend;
  const ctx = (p: Principal | null, withAuth = true): RequestContext => ({ backend, auth: withAuth ? auth : null, principal: p, apiVersion: 1, clientId: 'c', log: () => {}, throttle: () => {} });
  const joinReq = { sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 300, memberId: '', protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.from('x') }] };
  for (const group of ['a.billing', 'b.orders']) await handleJoinGroup({ ...joinReq, group }, ctx(principal('alice'), false));
  const listed = async (c: RequestContext) => {
    const r = new Reader((await handleListGroups(c)).toBuffer());
    r.int32();
    assert.equal(r.int16(), 0);
    return r.array((r) => [r.string(), r.string()][0]!);
  };
  const described = async (c: RequestContext, ids: string[]) => {
    const r = new Reader((await handleDescribeGroups({ groups: ids }, c)).toBuffer());
    r.int32();
    return r.array((r) => {
      const error = r.int16();
      const id = r.string();
      const state = r.string();
      r.string();
      r.string();
      r.array((r) => [r.string(), r.string(), r.string(), r.bytes(), r.bytes()]);
      return { id, error, state };
    });
  };
  const teamB = principal('team-b', ['b.*']);
  assert.deepEqual(await listed(ctx(teamB)), ['b.orders']);
  assert.deepEqual(await listed(ctx(principal('everyone'))), ['a.billing', 'b.orders'], 'no groups patterns: every group');
  assert.deepEqual(await listed(ctx(null, false)), ['a.billing', 'b.orders'], 'no auth file');
  assert.deepEqual((await described(ctx(teamB), ['b.orders', 'a.billing', 'a.missing'])).map((g) => [g.id, g.error, g.state]), [
    ['b.orders', 0, 'CompletingRebalance'],
    ['a.billing', 30, ''],
    ['a.missing', 30, ''],
  ]);
  groups.deactivate();
});
