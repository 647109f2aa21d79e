import assert from 'node:assert/strict';
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { YakClient } from '../../../broker-runtime/src/client/index.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { get } from '../../../testkit/http.js';
import { sleep, waitFor } from '../../../testkit/wait.js';

const TOPIC = 'impostor';
const MAX_EPOCH = 2 ** 32 - 1;

/**
 * A follower's answers are not signed: whatever answers at its address is believed as far as the
 * answer goes. A program that took a stopped follower's port (any local user can, on loopback)
 * answered every frame with STALE_EPOCH naming epoch 2^32-1. The leader stepped down and stored
 * that epoch as the highest it had seen (broker-state.json), so its next candidacy asked for an
 * epoch past the last one a log can store: 'epochs-exhausted', for every broker that met the
 * impostor in turn — a cluster leaderless for good, from one port. A STALE_EPOCH answer is now
 * believed only for an epoch Redis holds a frame key for (every real leadership has one).
 */
describe('an impostor at a stopped follower\'s address', () => {
  let cluster: TestCluster;
  let client: YakClient;
  let impostor: http.Server | null = null;
  let answered = 0;

  before(async () => {
    cluster = await TestCluster.start({ brokers: 3, leaseSeconds: 2, renewSeconds: 0.5 });
    client = new YakClient({ brokers: cluster.urls(), timeoutMs: 3000, retry: { retries: 40, minDelayMs: 20, maxDelayMs: 200 } });
    for (let i = 0; i < 5; i++) await client.produce(TOPIC, { payload: { i }, partition: 0 });
  });
  after(async () => {
    await new Promise<void>((r) => (impostor ? impostor.close(() => r()) : r()));
    await cluster?.stop();
  });

  test('answering STALE_EPOCH 2^32-1 neither deposes the leader nor reaches any broker\'s stored epoch', async () => {
    const { broker: leader, epoch } = await cluster.waitForLeader();
    const victim = cluster.brokers.find((b) => b !== leader)!;
    const port = Number(new URL(victim.url).port);
    await victim.kill();
    impostor = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        answered++;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error: 'STALE_EPOCH', message: 'epoch is not newer', epoch: MAX_EPOCH }));
      });
    });
    // No stream: the leader then posts its frames.
    impostor.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n'));
    await new Promise<void>((r) => impostor!.listen(port, '127.0.0.1', () => r()));
    await waitFor('the leader posts a frame to the impostor', () => answered >= 1, 20_000);
    // Three leases' time: long enough for a deposed leader to be replaced, and its successor to meet the impostor too.
    await sleep(6000);
    assert.ok(answered >= 3, `the leader went on posting to the impostor (${answered} frames), pausing between refusals`);

    const now = await cluster.waitForLeader();
    assert.equal(now.broker.id, leader.id, 'the same leader');
    assert.equal(now.epoch, epoch, 'no new epoch');
    for (const b of cluster.brokers.filter((x) => x !== victim)) {
      const h = (await get(b.url, '/health')).body as { epoch: number };
      assert.equal(h.epoch, epoch, `${b.id} reports epoch ${h.epoch}`);
      const state = JSON.parse(await readFile(join(cluster.dir, b.id, 'broker-state.json'), 'utf8')) as { highestEpoch: number };
      assert.ok(state.highestEpoch < 100, `${b.id} stored highest epoch ${state.highestEpoch}`);
    }
    const r = await client.produce(TOPIC, { payload: { after: true }, partition: 0 });
    assert.equal(r.offset, 5, 'produces go on');
    assert.ok(leader.output.some((l) => l.includes(`epoch ${MAX_EPOCH}`) && l.includes('Redis')), 'the leader says why it ignored the answer');
  });
});
