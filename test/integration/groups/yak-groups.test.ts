import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { YakClient } from '../../../broker-runtime/src/client/index.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { yak } from '../../helpers/yak-cli.js';

/** `yak groups` against a real broker: list, describe, reset-offsets (dry run, then --execute). */
describe('yak groups', () => {
  let cluster: TestCluster;
  let client: YakClient;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    cluster = await TestCluster.start({ brokers: 1 });
    client = new YakClient({ brokers: cluster.urls() });
    env = { YAK_BROKERS: cluster.urls().join(',') };
    await client.createTopic('clicks', 2);
    await client.produceBatch('clicks', Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, payload: i })));
    // A commit from outside the group (no members yet), as a tool would.
    await client.commitOffsets('web', [{ topic: 'clicks', partition: 0, offset: 2 }, { topic: 'clicks', partition: 1, offset: 5 }]);
  });
  after(async () => cluster?.stop());

  test('list and describe show committed offsets and lag', async () => {
    const list = await yak(['groups'], { env });
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /GROUP\s+STATE\s+GENERATION\s+MEMBERS\s+LAG\n/);
    assert.match(list.stdout, /web\s+Empty\s+0\s+0\s+3\n/);
    const described = await yak(['groups', 'describe', 'web'], { env });
    assert.equal(described.status, 0, described.stderr);
    assert.match(described.stdout, /^group web: Empty, generation 0, 0 members, lag 3\n/);
    assert.match(described.stdout, /clicks\s+0\s+2\s+5\s+3\s+-\s+-\n/);
    const json = JSON.parse((await yak(['groups', 'describe', 'web', '--json'], { env })).stdout);
    assert.equal(json.lag, 3);
    const missing = await yak(['groups', 'describe', 'nope'], { env });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /UNKNOWN_GROUP|does not exist/);
  });

  test('reset-offsets is a dry run unless --execute, and refused while the group has members', async () => {
    const dry = await yak(['groups', 'reset-offsets', 'web', '--to-earliest'], { env });
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /dry run: nothing changed/);
    assert.deepEqual((await client.groupOffsets('web')).offsets.map((o) => o.offset), [2, 5]);
    const done = await yak(['groups', 'reset-offsets', 'web', '--to-offset', '1', '--topic', 'clicks', '--partitions', '1', '--execute'], { env });
    assert.equal(done.status, 0, done.stderr);
    assert.match(done.stdout, /clicks\s+1\s+1\n/);
    assert.deepEqual((await client.groupOffsets('web')).offsets.map((o) => o.offset), [2, 1]);
    const member = await client.joinGroup('web', { topics: ['clicks'], sessionTimeoutMs: 10_000 });
    const refused = await yak(['groups', 'reset-offsets', 'web', '--to-latest', '--execute'], { env });
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /member/);
    await client.leaveGroup('web', member.member_id);
    const usage = await yak(['groups', 'reset-offsets', 'web'], { env });
    assert.equal(usage.status, 2);
  });
});
