import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { get, post } from '../../../testkit/http.js';

/**
 * Security review: `__consumer_offsets` is deleted by nothing (retention -1), because committed
 * offsets are acknowledged writes a new leader rebuilds groups from. A retention set on it would
 * let retention delete acknowledged commits: refused 400, the config unchanged; other keys
 * (min.insync.replicas) may still be changed.
 */
describe('the config of __consumer_offsets', () => {
  let cluster: TestCluster;
  let url: string;
  before(async () => {
    cluster = await TestCluster.start({ brokers: 1, partitions: 1 });
    url = (await cluster.waitForLeader()).broker.url;
    assert.equal((await post(url, '/produce', { topic: 'data', payload: 1 })).status, 200);
    assert.equal((await post(url, '/groups/g/commit', { offsets: [{ topic: 'data', partition: 0, offset: 1 }] })).status, 200);
  });
  after(async () => {
    await cluster?.stop();
  });

  test('retention.ms or retention.bytes on it is refused 400 and changes nothing', async () => {
    for (const config of [{ 'retention.ms': 1 }, { 'retention.bytes': 0 }, { 'retention.ms': null }]) {
      const r = await post(url, '/topics/__consumer_offsets/config', { config });
      assert.equal(r.status, 400, JSON.stringify(config) + ' ' + r.text);
      assert.equal(r.body.error, 'INVALID_REQUEST');
      assert.match(r.body.message, /__consumer_offsets/);
    }
    const now = (await get(url, '/topics/__consumer_offsets/config')).body;
    assert.equal(now.config['retention.ms'], -1);
    assert.equal(now.config['retention.bytes'], -1);
  });

  test('min.insync.replicas on it may still be set', async () => {
    const r = await post(url, '/topics/__consumer_offsets/config', { config: { 'min.insync.replicas': 1 } });
    assert.equal(r.status, 200, r.text);
  });
});
