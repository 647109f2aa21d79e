import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hashSecret } from '../../../broker-runtime/src/auth/secret-hash.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { call } from '../../../testkit/http.js';

const ADMIN = 'admin:admin-secret';
const APP = 'app:app-secret';
const MALLORY = 'mallory:mallory-secret';
const TEAM_B = 'team-b:team-b-secret';

/** Under --auth-file a member uses only topics its principal may consume; a reset is an admin's call. */
describe('consumer groups under --auth-file', () => {
  let cluster: TestCluster;
  let dir: string;
  let leader: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'yak-groups-auth-'));
    const path = join(dir, 'principals.json');
    const principals = {
      admin: { secret_hash: await hashSecret('admin-secret'), produce: ['*'], consume: ['*'], admin: true },
      app: { secret_hash: await hashSecret('app-secret'), produce: ['orders.*'], consume: ['orders.*'] },
      // May consume the same topics as app, but is another principal.
      mallory: { secret_hash: await hashSecret('mallory-secret'), consume: ['orders.*'] },
      // Same topics, but only its own groups (Kafka's Group ACL).
      'team-b': { secret_hash: await hashSecret('team-b-secret'), consume: ['orders.*'], groups: ['b.*'] },
    };
    await writeFile(path, JSON.stringify({ principals }));
    cluster = await TestCluster.start({ brokers: 1, partitions: 1, extra: ['--auth-file', path], token: ADMIN });
    leader = (await cluster.waitForLeader()).broker.url;
    for (const topic of ['orders.eu', 'payroll']) assert.equal((await call(leader, 'POST', '/produce', { topic, payload: 1 }, undefined, 10_000, ADMIN)).status, 200);
  });
  after(async () => {
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const post = (path: string, body: unknown, token?: string) => call(leader, 'POST', path, body, undefined, 20_000, token);

  test('joining or committing needs consume permission on every topic named; nothing changes when refused', async () => {
    assert.equal((await post('/groups/g/join', { topics: ['orders.eu'] })).status, 401);
    const refused = await post('/groups/g/join', { topics: ['orders.eu', 'payroll'] }, APP);
    assert.equal(refused.status, 403);
    assert.equal((await call(leader, 'GET', '/groups/g', undefined, undefined, 10_000, ADMIN)).body.error, 'UNKNOWN_GROUP');
    const joined = await post('/groups/g/join', { topics: ['orders.eu'], session_timeout_ms: 10_000 }, APP);
    assert.equal(joined.status, 200, joined.text);
    const member = { member_id: joined.body.member_id, generation: joined.body.generation };
    assert.equal((await post('/groups/g/commit', { ...member, offsets: [{ topic: 'payroll', partition: 0, offset: 1 }] }, APP)).status, 403);
    assert.equal((await post('/groups/g/commit', { ...member, offsets: [{ topic: 'orders.eu', partition: 0, offset: 1 }] }, APP)).status, 200);
    assert.equal((await post('/groups/g/leave', { member_id: joined.body.member_id }, APP)).status, 200);
  });

  test('a reset is an admin\'s call', async () => {
    assert.equal((await post('/groups/g/reset', { to: 'earliest' }, APP)).status, 403);
    const reset = await post('/groups/g/reset', { to: 'earliest' }, ADMIN);
    assert.equal(reset.status, 200, reset.text);
    assert.deepEqual(reset.body.offsets, [{ topic: 'orders.eu', partition: 0, committed_offset: 0 }]);
  });

  test('another principal that reads a member id from GET /groups/{group} cannot heartbeat, commit, rejoin or leave as it (403, nothing changes)', async () => {
    const joined = await post('/groups/h/join', { topics: ['orders.eu'], session_timeout_ms: 30_000 }, APP);
    assert.equal(joined.status, 200, joined.text);
    assert.equal((await post('/groups/h/commit', { member_id: joined.body.member_id, generation: joined.body.generation, offsets: [{ topic: 'orders.eu', partition: 0, offset: 0 }] }, APP)).status, 200);
    const seen = await call(leader, 'GET', '/groups/h', undefined, undefined, 10_000, MALLORY);
    assert.equal(seen.status, 200);
    const victim = { member_id: seen.body.members[0].member_id as string, generation: seen.body.generation as number };
    assert.equal(victim.member_id, joined.body.member_id, 'the member id is visible to any principal');
    for (const [path, body] of [
      ['/groups/h/heartbeat', victim],
      ['/groups/h/commit', { ...victim, offsets: [{ topic: 'orders.eu', partition: 0, offset: 1 }] }],
      ['/groups/h/join', { topics: ['orders.eu'], member_id: victim.member_id }],
      ['/groups/h/leave', { member_id: victim.member_id }],
    ] as const) {
      const r = await post(path, body, MALLORY);
      assert.equal(r.status, 403, `${path}: ${r.text}`);
      assert.equal(r.body.error, 'FORBIDDEN');
    }
    const after = await call(leader, 'GET', '/groups/h', undefined, undefined, 10_000, ADMIN);
    assert.deepEqual(after.body.members.map((m: { member_id: string }) => m.member_id), [joined.body.member_id], 'the member is still there');
    assert.equal(after.body.generation, joined.body.generation, 'no rebalance');
    assert.equal(after.body.offsets[0].committed_offset, 0, 'the committed offset did not move');
    assert.equal((await post('/groups/h/leave', { member_id: joined.body.member_id }, APP)).status, 200, 'its own principal still can');
  });

  test("a principal with `groups` patterns uses and sees only those groups: another team's group is 403 to join, commit, describe, and left out of GET /groups", async () => {
    const joined = await post('/groups/a.billing/join', { topics: ['orders.eu'], session_timeout_ms: 30_000 }, APP);
    assert.equal(joined.status, 200, joined.text);
    const member = { member_id: joined.body.member_id, generation: joined.body.generation };
    assert.equal((await post('/groups/a.billing/join', { topics: ['orders.eu'] }, TEAM_B)).status, 403, 'join');
    assert.equal((await post('/groups/a.billing/commit', { offsets: [{ topic: 'orders.eu', partition: 0, offset: 1 }] }, TEAM_B)).status, 403, 'commit from outside');
    assert.equal((await call(leader, 'GET', '/groups/a.billing', undefined, undefined, 10_000, TEAM_B)).status, 403, 'describe');
    assert.equal((await call(leader, 'GET', '/groups/a.billing/offsets', undefined, undefined, 10_000, TEAM_B)).status, 403, 'offsets');
    const list = await call(leader, 'GET', '/groups', undefined, undefined, 10_000, TEAM_B);
    assert.equal(list.status, 200);
    assert.ok(!list.body.groups.some((g: { group: string }) => g.group === 'a.billing'), 'not listed');
    const own = await post('/groups/b.billing/join', { topics: ['orders.eu'], session_timeout_ms: 30_000 }, TEAM_B);
    assert.equal(own.status, 200, own.text);
    assert.equal((await post('/groups/b.billing/leave', { member_id: own.body.member_id }, TEAM_B)).status, 200);
    const after = await call(leader, 'GET', '/groups/a.billing', undefined, undefined, 10_000, ADMIN);
    assert.deepEqual(after.body.members.map((m: { member_id: string }) => m.member_id), [member.member_id], 'a.billing unchanged');
    assert.equal((await post('/groups/a.billing/leave', { member_id: member.member_id }, APP)).status, 200, 'a principal without `groups` uses any group, as before');
  });
});
