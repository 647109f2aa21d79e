import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hashSecret } from '../../../broker-runtime/src/auth/secret-hash.js';
import { TestCluster } from '../../helpers/cluster.js';
import { call } from '../../helpers/http.js';

const ADMIN = 'admin:admin-secret';
const APP = 'app:app-secret';

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
});
