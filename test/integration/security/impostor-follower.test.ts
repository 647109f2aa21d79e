import assert from 'node:assert/strict';
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { YakClient } from '../../../broker-runtime/src/client/index.js';
import { decodeFrame } from '../../../broker-runtime/src/replication/wire.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { get } from '../../../testkit/http.js';
import { sleep, waitFor } from '../../../testkit/wait.js';

const TOPIC = 'impostor';
const MAX_EPOCH = 2 ** 32 - 1;

/**
 * An older follower's answers are not signed (answer-auth.ts), and the leader believes an unsigned
 * answer from a follower that has not signed in this leadership: whatever answers at its address
 * unsigned is believed as far as the answer goes. A program that took a stopped follower's port (any local user can, on loopback)
 * answered every frame with STALE_EPOCH naming epoch 2^32-1. The leader stepped down and stored
 * that epoch as the highest it had seen (broker-state.json), so its next candidacy asked for an
 * epoch past the last one a log can store: 'epochs-exhausted', for every broker that met the
 * impostor in turn — a cluster leaderless for good, from one port. A STALE_EPOCH answer is now
 * believed only for an epoch Redis holds a frame key for (every real leadership has one).
 * The same impostor answering "appended" to every frame was let back into the in-sync set; now only
 * a broker whose registration is alive rejoins.
 */
describe('an impostor at a stopped follower\'s address', () => {
  let cluster: TestCluster;
  let client: YakClient;
  let impostor: http.Server | null = null;
  let answered = 0;

  /** Kills `victim` and listens on its port with `answer` for every POSTed frame (no streams). */
  async function impersonate(victim: { url: string; kill(): Promise<void> }, answer: (frame: Buffer) => unknown): Promise<void> {
    const port = Number(new URL(victim.url).port);
    await victim.kill();
    await new Promise<void>((r) => (impostor ? impostor.close(() => r()) : r()));
    answered = 0;
    impostor = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        answered++;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer(Buffer.concat(chunks))));
      });
    });
    // No stream: the leader then posts its frames.
    impostor.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n'));
    await new Promise<void>((r) => impostor!.listen(port, '127.0.0.1', () => r()));
  }

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
    await impersonate(victim, () => ({ ok: false, error: 'STALE_EPOCH', message: 'epoch is not newer', epoch: MAX_EPOCH }));
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
    // The victim signed its answers in this leadership, so the impostor's unsigned one is refused
    // before it is read (answer-auth.ts); from a follower that never signed (an older version) it
    // would be read, and its epoch ignored because Redis holds no frame key for it.
    const refused = leader.output.some((l) => l.includes(`refused an answer from follower ${victim.id}`));
    const ignored = leader.output.some((l) => l.includes(`epoch ${MAX_EPOCH}`) && l.includes('Redis'));
    assert.ok(refused || ignored, 'the leader says why it ignored the answer');
  });

  // Runs after the test above: its victim is down, its port held by an impostor.
  test('claiming to hold every record it was sent does not bring a follower whose registration expired back into the in-sync set', async () => {
    const { broker: leader } = await cluster.waitForLeader();
    const victim = cluster.brokers.find((b) => b !== leader && b.running())!;
    const down = cluster.brokers.find((b) => b !== leader && b !== victim)!;
    const inSync = async () => ((await get(leader.url, '/metadata/cluster')).body as { brokers: { id: string; in_sync: boolean }[] }).brokers.filter((b) => b.in_sync).map((b) => b.id).sort();
    await impersonate(victim, (frame) => {
      const { header } = decodeFrame(frame);
      // Every part "appended", far past anything the leader has.
      return { ok: true, metaVersion: header.metaVersion, incarnation: 'impostor', parts: header.parts.map((p) => ({ topic: p.topic, partition: p.partition, status: 'ok', logEndOffset: 2 ** 40 })) };
    });
    await waitFor(`${victim.id} and ${down.id} out of the in-sync set (registrations expired)`, async () => (await inSync()).join() === leader.id, 20_000);
    const expandedBefore = leader.output.filter((l) => l.includes(`expanded with ${victim.id}`)).length;
    await waitFor('the leader posts frames to the impostor', () => answered >= 5, 20_000);
    await sleep(3000);
    assert.equal(leader.output.filter((l) => l.includes(`expanded with ${victim.id}`)).length, expandedBefore, `${victim.id} was not let back in`);
    assert.deepEqual(await inSync(), [leader.id]);
  });
});
