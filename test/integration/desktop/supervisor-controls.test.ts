import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClusterEvent, ClusterSnapshot } from '../../../src/shared/cluster-api.js';
import { Supervisor } from '../../../src/main/supervisor/index.js';
import { tempDataDir, waitPidsGone } from '../../helpers/desktop.js';
import { waitFor } from '../../../testkit/wait.js';

/** The per-process and whole-cluster controls, against real processes. */
describe('Supervisor controls', () => {
  let sup: Supervisor;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  const events: ClusterEvent[] = [];

  const snapshot = () => sup.getSnapshot();
  const broker = (s: ClusterSnapshot, id: string) => s.brokers.find((b) => b.id === id);
  const settled = (s: ClusterSnapshot) => s.brokers.every((b) => b.reachable && b.inSync) && s.brokers.filter((b) => b.role === 'leader').length === 1;

  before(async () => {
    const data = await tempDataDir();
    ({ dir: dataDir, cleanup } = data);
    sup = await Supervisor.create({ dataDir, stopGraceMs: 3000 });
    sup.onEvent((e) => events.push(e));
    await sup.updateSettings({ brokerCount: 2 });
    await sup.startCluster();
    await waitFor('two brokers in sync', async () => settled(await snapshot()), 30_000, 200);
  });

  after(async () => {
    const pids = sup.livePids();
    await sup.shutdown();
    await waitPidsGone(pids).catch(() => sup.killAllNow());
    await cleanup();
  });

  it('adds a broker that starts, joins the in-sync set, and is saved in the settings; removes it again', async () => {
    const id = await sup.addBroker();
    assert.equal(id, 'broker-3');
    await waitFor(`${id} in sync`, async () => broker(await snapshot(), id)?.inSync && broker(await snapshot(), id)?.reachable, 30_000, 200);
    assert.equal((await sup.getSettings()).brokerCount, 3);
    const pid = broker(await snapshot(), id)!.process.pid!;
    await sup.removeBroker(id);
    await waitPidsGone([pid], 5000);
    assert.equal(broker(await snapshot(), id), undefined);
    assert.equal((await sup.getSettings()).brokerCount, 2);
    await assert.rejects(sup.removeBroker('broker-7'), /no process named 'broker-7'/);
  });

  it('pauses and resumes a broker (SIGSTOP/SIGCONT) with events', async () => {
    const s = await snapshot();
    const follower = s.brokers.find((b) => b.role === 'follower')!;
    await sup.brokerAction(follower.id, 'pause');
    assert.equal(broker(await snapshot(), follower.id)!.process.state, 'paused');
    assert.equal(broker(await snapshot(), follower.id)!.reachable, false);
    await assert.rejects(sup.brokerAction(s.leader!.id, 'resume'), new RegExp(`${s.leader!.id} is not paused`));
    await sup.brokerAction(follower.id, 'resume');
    await waitFor('resumed broker answering', async () => broker(await snapshot(), follower.id)!.reachable, 10_000, 200);
    assert.ok(events.some((e) => e.kind === 'process-signal' && /SIGSTOP/.test(e.message)));
    assert.ok(events.some((e) => e.kind === 'process-signal' && /SIGCONT/.test(e.message)));
  });

  it('fails over from a paused (zombie) leader and brings it back with SIGCONT', async () => {
    await waitFor('settled', async () => settled(await snapshot()), 30_000, 200);
    await sup.simulateFailover({ mode: 'pause', restartOldLeader: true, demoProducer: true });
    await assert.rejects(sup.simulateFailover({ mode: 'kill', restartOldLeader: false, demoProducer: false }), /already running/);
    const done = await waitFor('failover over', async () => {
      const f = await sup.getFailover();
      return f && f.state !== 'running' ? f : null;
    }, 50_000, 250);
    assert.equal(done.state, 'done', done.error ?? '');
    assert.deepEqual(done.steps.map((s) => s.step), ['leader-lost', 'lease-expired', 'new-leader', 'first-commit', 'old-leader-restarted', 'caught-up']);
    assert.ok(done.newLeader!.epoch > done.oldLeader.epoch);
    assert.equal(broker(await snapshot(), done.oldLeader.id)!.process.state, 'running');
  });

  it('restart replaces the process; wipe stops the cluster and deletes its data; a new start elects afresh', async () => {
    const before = broker(await snapshot(), 'broker-1')!.process;
    await sup.brokerAction('broker-1', 'restart');
    const after = broker(await snapshot(), 'broker-1')!.process;
    assert.notEqual(after.pid, before.pid);
    assert.equal(after.restarts, before.restarts + 1);

    const pids = sup.livePids();
    await sup.wipeData();
    await waitPidsGone(pids, 5000);
    assert.equal(existsSync(join(dataDir, 'brokers')), false);
    assert.equal(existsSync(join(dataDir, 'redis')), false);
    assert.equal((await snapshot()).running, false);
    assert.ok(events.some((e) => e.kind === 'info' && /wiped/.test(e.message)));

    await sup.startCluster();
    const fresh = await waitFor('a leader after the wipe', async () => {
      const s = await snapshot();
      return s.leader && settled(s) ? s : null;
    }, 30_000, 200);
    assert.equal(fresh.topics.length, 0, 'no topics survive a wipe');
    assert.equal(fresh.epoch, 1, 'epochs start again: Redis was wiped too');
  });
});
