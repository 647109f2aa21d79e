import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClusterEvent, ClusterSnapshot } from '../../../src/shared/cluster-api.js';
import { Supervisor } from '../../../src/main/supervisor/index.js';
import { pidAlive, tempDataDir, waitPidsGone } from '../../helpers/desktop.js';
import { waitFor } from '../../../testkit/wait.js';

/**
 * The supervisor against real processes: an embedded redis-server and three yak-broker
 * processes, started, watched, failed over and stopped exactly as the desktop app does it.
 */
describe('Supervisor with a real cluster', () => {
  let sup: Supervisor;
  let cleanup: () => Promise<void>;
  const events: ClusterEvent[] = [];
  let last: ClusterSnapshot | null = null;

  let dataDir = '';

  before(async () => {
    const data = await tempDataDir();
    cleanup = data.cleanup;
    dataDir = data.dir;
    sup = await Supervisor.create({ dataDir: data.dir, stopGraceMs: 3000 });
    sup.onEvent((e) => events.push(e));
    sup.onSnapshot((s) => (last = s));
    await sup.startCluster();
  });

  after(async () => {
    const pids = sup.livePids();
    await sup.shutdown();
    await waitPidsGone(pids).catch(() => sup.killAllNow());
    await cleanup();
  });

  const leaderOf = (s: ClusterSnapshot) => s.brokers.filter((b) => b.role === 'leader');

  it('comes up with redis and three brokers, and exactly one leader', async () => {
    const snap = await waitFor('one leader and three reachable brokers', async () => {
      const s = await sup.getSnapshot();
      return s.brokers.every((b) => b.reachable) && leaderOf(s).length === 1 && s.leader ? s : null;
    }, 30_000, 200);
    assert.equal(snap.running, true);
    assert.equal(snap.redis.mode, 'embedded');
    assert.equal(snap.redis.reachable, true);
    assert.equal(snap.redis.process?.state, 'running');
    assert.equal(snap.brokers.length, 3);
    assert.deepEqual(snap.brokers.map((b) => b.process.state), ['running', 'running', 'running']);
    assert.equal(leaderOf(snap)[0]!.id, snap.leader!.id);
    assert.ok(snap.epoch >= 1);
    assert.ok(events.some((e) => e.kind === 'leader-elected' && e.brokerId === snap.leader!.id && e.epoch === snap.epoch));
    assert.ok(last, 'snapshots are pushed to subscribers');
  });

  it('runs its brokers with a per-cluster credential: calls without it are refused, the files are private', async () => {
    const snap = await sup.getSnapshot();
    const credential = join(dataDir, 'cluster-credential.json');
    assert.equal((await stat(credential)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dataDir, 'broker-auth.json'))).mode & 0o777, 0o600);
    const { principal, secret } = JSON.parse(await readFile(credential, 'utf8')) as { principal: string; secret: string };
    for (const b of snap.brokers) {
      const stranger = await fetch(`${b.url}/produce`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topic: 'intruder', payload: 1 }) });
      assert.equal(stranger.status, 401, `${b.id} answers a call without the token`);
      assert.equal((await fetch(`${b.url}/consume?topic=desk&partition=0&offset=0`)).status, 401);
      const wrong = await fetch(`${b.url}/topics`, { headers: { authorization: `Bearer ${principal}:not-the-secret` } });
      assert.equal(wrong.status, 401);
      const ours = await fetch(`${b.url}/topics`, { headers: { authorization: `Bearer ${principal}:${secret}` } });
      assert.equal(ours.status, 200);
    }
    assert.ok(!(await sup.listTopics()).some((t) => t.name === 'intruder'));
  });

  it('produces and consumes through the broker client, and shows per-replica offsets', async () => {
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await sup.produce({ topic: 'desk', key: `k${i}`, payload: { i } }));
    const first = results[0]!;
    const read = await sup.consume({ topic: 'desk', partition: first.partition, offset: 'earliest', max: 100 });
    assert.ok(read.records.some((r) => r.offset === first.offset && (r.payload as { i: number }).i === 0));
    assert.ok(read.highWatermark >= 1 && read.nextOffset >= 1);
    const topics = await sup.listTopics();
    assert.ok(topics.some((t) => t.name === 'desk' && t.partitions.length === 3));
    const snap = await waitFor('replicas of desk in the snapshot', async () => {
      const s = await sup.getSnapshot();
      const t = s.topics.find((x) => x.name === 'desk');
      return t && t.partitions.every((p) => p.replicas.length === 3) && t.partitions.reduce((n, p) => n + p.highWatermark, 0) === 6 ? t : null;
    }, 10_000, 200);
    assert.equal(snap.partitions.length, 3);
  });

  it('killing a broker is an exit event with its signal; it can be started again', async () => {
    const s = await sup.getSnapshot();
    const follower = s.brokers.find((b) => b.role === 'follower')!;
    const pid = follower.process.pid!;
    await sup.brokerAction(follower.id, 'kill');
    const exit = events.find((e) => e.kind === 'process-exited' && e.brokerId === follower.id);
    assert.ok(exit, 'an exit event');
    assert.match(exit.message, /SIGKILL/);
    assert.equal(pidAlive(pid), false);
    assert.equal((await sup.getSnapshot()).brokers.find((b) => b.id === follower.id)!.process.state, 'exited');
    await sup.brokerAction(follower.id, 'start');
    await waitFor('the broker back', async () => {
      const b = (await sup.getSnapshot()).brokers.find((x) => x.id === follower.id)!;
      return b.reachable && b.process.state === 'running' && b.process.pid !== pid;
    }, 15_000, 200);
    assert.ok((await sup.processOutput(follower.id)).length > 0);
  });

  it('simulated failover: the full timeline in order, a new leader with a higher epoch, the old one back in sync', async () => {
    await waitFor('all brokers in sync', async () => {
      const s = await sup.getSnapshot();
      return s.brokers.every((b) => b.reachable && b.inSync) && leaderOf(s).length === 1;
    }, 30_000, 200);
    const before = await sup.getSnapshot();
    const started = await sup.simulateFailover({ mode: 'kill', restartOldLeader: true, demoProducer: true });
    assert.equal(started.state, 'running');
    assert.equal(started.oldLeader.id, before.leader!.id);
    assert.deepEqual(started.steps.map((s) => s.step), ['leader-lost']);
    const done = await waitFor('the failover to finish', async () => {
      const f = await sup.getFailover();
      return f && f.state !== 'running' ? f : null;
    }, 50_000, 250);
    assert.equal(done.state, 'done', `failover failed: ${done.error}`);
    assert.deepEqual(done.steps.map((s) => s.step), ['leader-lost', 'lease-expired', 'new-leader', 'first-commit', 'old-leader-restarted', 'caught-up']);
    const times = done.steps.map((s) => s.at);
    assert.deepEqual(times, [...times].sort((a, b) => a - b), 'steps are in time order');
    assert.ok(done.newLeader && done.newLeader.id !== done.oldLeader.id);
    assert.ok(done.newLeader.epoch > done.oldLeader.epoch, 'a higher epoch');
    assert.ok(done.gapMs !== null && done.gapMs > 0);
    const stepEvents = events.filter((e) => e.kind === 'failover-step');
    assert.ok(stepEvents.length >= 6, 'each step is an event');
    const after = await sup.getSnapshot();
    assert.equal(after.epoch, done.newLeader.epoch);
    assert.ok(after.topics.some((t) => t.name === 'yak-demo'), 'the demo producer wrote records');
  });

  it('shutdown stops every child: no pid is left', async () => {
    const pids = sup.livePids();
    assert.equal(pids.length, 4, 'redis and three brokers');
    await sup.shutdown();
    await waitPidsGone(pids, 5000);
    assert.deepEqual(sup.livePids(), []);
    assert.equal((await sup.getSnapshot()).running, false);
    const exits = events.filter((e) => e.kind === 'process-exited').slice(-4);
    assert.equal(exits.length, 4);
  });
});
