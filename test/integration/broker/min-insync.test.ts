import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { YakClient, YakClientError, YakRetriesExhaustedError } from '../../../broker-runtime/src/client/index.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { get, post } from '../../../testkit/http.js';
import { waitFor } from '../../../testkit/wait.js';

/**
 * min.insync.replicas as a per-topic config (issue 11, item 5), on real processes: 2 brokers started
 * with --min-insync 1. A topic set to 2 refuses produces with 503 NOT_ENOUGH_REPLICAS (nothing
 * written) once its follower is gone, while a topic on the broker default still takes them; lowering
 * the setting live makes the same produce succeed, without restarting anything; the override reaches
 * the follower; bad values are refused and change nothing.
 */
describe('min.insync.replicas per topic', () => {
  let cluster: TestCluster;
  let leaderUrl: string;
  let followerId: string;

  before(async () => {
    cluster = await TestCluster.start({ brokers: 2, partitions: 1, minInsync: 1 });
    const { broker } = await cluster.waitForLeader();
    leaderUrl = broker.url;
    followerId = cluster.brokers.find((b) => b.id !== broker.id)!.id;
  });
  after(async () => cluster?.stop());

  const produce = (topic: string, n: number) => post(leaderUrl, '/produce', { topic, payload: { n } });
  const hwm = async (topic: string) => ((await get(leaderUrl, '/topics')).body.topics as { name: string; partitions: { high_watermark: number }[] }[]).find((t) => t.name === topic)!.partitions[0]!.high_watermark;

  test('created with the override, shown in GET /topics and on the follower', async () => {
    const created = await post(leaderUrl, '/topics', { name: 'strict', partitions: 1, config: { 'min.insync.replicas': 2 } });
    assert.equal(created.status, 201, created.text);
    assert.equal((await post(leaderUrl, '/topics', { name: 'relaxed', partitions: 1 })).status, 201);
    const topics = (await get(leaderUrl, '/topics')).body.topics as { name: string; config: Record<string, number> }[];
    assert.equal(topics.find((t) => t.name === 'strict')!.config['min.insync.replicas'], 2);
    assert.equal(topics.find((t) => t.name === 'relaxed')!.config['min.insync.replicas'], 1, 'the broker default (--min-insync 1)');
    const follower = cluster.broker(followerId);
    await waitFor('the follower has the override', async () => (await get(follower.url, '/topics/strict/config')).body.overrides?.['min.insync.replicas'] === 2);
    assert.equal((await produce('strict', 1)).status, 200, 'two replicas in sync: accepted');
  });

  test('bad values are refused with 400 and change nothing', async () => {
    for (const bad of [0, -1, 1.5, '2']) {
      const res = await post(leaderUrl, '/topics/strict/config', { config: { 'min.insync.replicas': bad } });
      assert.equal(res.status, 400, `${JSON.stringify(bad)}: ${res.text}`);
      assert.match(res.body.message, /min\.insync\.replicas must be an integer >= 1/);
    }
    assert.equal((await get(leaderUrl, '/topics/strict/config')).body.config['min.insync.replicas'], 2);
  });

  test('with the follower gone: NOT_ENOUGH_REPLICAS for the strict topic only, nothing written', async () => {
    await cluster.broker(followerId).kill();
    await waitFor('the follower leaves the in-sync set', async () => {
      const view = (await get(leaderUrl, '/metadata/cluster')).body as { brokers: { id: string; in_sync: boolean }[] };
      return view.brokers.filter((b) => b.in_sync).length === 1;
    }, 20_000);
    const before = await hwm('strict');
    const refused = await produce('strict', 2);
    assert.equal(refused.status, 503, refused.text);
    assert.equal(refused.body.error, 'NOT_ENOUGH_REPLICAS');
    assert.equal(refused.body.in_sync, 1);
    assert.equal(refused.body.min_insync, 2);
    assert.match(refused.body.message, /min\.insync\.replicas of topic strict/);
    const leo = ((await get(leaderUrl, '/topics')).body.topics as { name: string; partitions: { log_end_offset: number }[] }[]).find((t) => t.name === 'strict')!.partitions[0]!.log_end_offset;
    assert.equal(leo, before, 'a refused produce writes nothing');
    assert.equal((await produce('relaxed', 1)).status, 200, 'a topic on the default (1) still takes writes');
  });

  test('the client can stop at the first NOT_ENOUGH_REPLICAS, or be aborted, instead of retrying', async () => {
    const client = new YakClient({ brokers: [leaderUrl] });
    await assert.rejects(client.produce('strict', { payload: 1 }, { stopOn: ['NOT_ENOUGH_REPLICAS'] }), (err: unknown) => {
      assert.ok(err instanceof YakClientError && !(err instanceof YakRetriesExhaustedError), String(err));
      assert.equal(err.code, 'NOT_ENOUGH_REPLICAS');
      return true;
    });
    const abort = new AbortController();
    const pending = client.produceBatch('strict', [{ payload: 1 }], { signal: abort.signal });
    setTimeout(() => abort.abort(), 100);
    await assert.rejects(pending, (err: unknown) => err instanceof YakClientError && err.code === 'ABORTED');
  });

  test('lowered live: the same produce is accepted at once, without a restart', async () => {
    const changed = await post(leaderUrl, '/topics/strict/config', { config: { 'min.insync.replicas': 1 } });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(changed.body.config['min.insync.replicas'], 1);
    const before = await hwm('strict');
    const ok = await produce('strict', 3);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(await hwm('strict'), before + 1, 'committed with one replica in sync');
  });

  test('null takes the broker default back; the follower returns with the topic config', async () => {
    assert.equal((await post(leaderUrl, '/topics/strict/config', { config: { 'min.insync.replicas': 2 } })).status, 200);
    assert.equal((await produce('strict', 4)).status, 503);
    const reset = await post(leaderUrl, '/topics/strict/config', { config: { 'min.insync.replicas': null } });
    assert.equal(reset.status, 200, reset.text);
    assert.deepEqual(reset.body.overrides, {});
    assert.equal(reset.body.config['min.insync.replicas'], 1);
    assert.equal((await produce('strict', 5)).status, 200);
    const follower = cluster.broker(followerId);
    follower.start();
    await cluster.waitForInSync(2, 30_000);
    await waitFor('the follower has the reset config', async () => {
      const res = await get(follower.url, '/topics/strict/config');
      return res.status === 200 && res.body.config['min.insync.replicas'] === 1 && Object.keys(res.body.overrides).length === 0;
    });
  });
});
