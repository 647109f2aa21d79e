import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FailoverOptions, FailoverTimeline } from '../../../src/shared/cluster-api.js';
import { FAILOVER_TIMEOUT_MS, FailoverRun, NO_COMMIT_GRACE_MS, type FailoverHost } from '../../../src/main/supervisor/failover/run.js';
import { obs } from './observations.js';

function harness(options: Partial<FailoverOptions> = {}, baselineHwm = 10) {
  let clock = 1000;
  const actions: string[] = [];
  let finished: FailoverTimeline | null = null;
  const host: FailoverHost = {
    takeDown: async (id, mode) => void actions.push(`down ${id} ${mode}`),
    bringBack: async (id, mode) => void actions.push(`back ${id} ${mode}`),
    onStep: () => undefined,
    onFinish: (t) => (finished = t),
  };
  const run = new FailoverRun(1, { mode: 'kill', restartOldLeader: true, demoProducer: true, ...options }, { id: 'broker-1', epoch: 3 }, baselineHwm, host, () => clock);
  return {
    run,
    actions,
    finished: () => finished,
    at: (t: number) => (clock = t),
    steps: () => run.timeline.steps.map((s) => `${s.step}@${s.sinceStartMs}`),
  };
}

const others = ['broker-2', 'broker-3'];
const caughtUpLogs = { 'broker-1': [{ hwm: 12, leo: 12 }], 'broker-2': [{ hwm: 12, leo: 12 }], 'broker-3': [{ hwm: 12, leo: 12 }] };

describe('FailoverRun records the failover timeline', () => {
  it('goes leader-lost → lease-expired → new-leader → first-commit → restarted → caught-up, with the gap', async () => {
    const h = harness();
    h.at(1010);
    await h.run.begin();
    assert.deepEqual(h.actions, ['down broker-1 kill']);
    h.run.onObservation(obs(1400, { leader: 'broker-1', epoch: 3, up: others })); // lease still held
    h.run.onObservation(obs(3000, { leader: null, epoch: 3, up: others }));
    h.run.onObservation(obs(3400, { leader: 'broker-2', epoch: 4, up: others }));
    h.run.onAck(4200, 4150);
    h.at(4300);
    h.run.onObservation(obs(4300, { leader: 'broker-2', epoch: 4, up: others, isr: others }));
    await new Promise((r) => setImmediate(r)); // bringBack resolves
    assert.deepEqual(h.actions, ['down broker-1 kill', 'back broker-1 kill']);
    h.run.onObservation(obs(5000, { leader: 'broker-2', epoch: 4, isr: others, logs: { ...caughtUpLogs, 'broker-1': [{ hwm: 5, leo: 5 }] } }));
    assert.equal(h.run.timeline.state, 'running', 'not caught up: behind and outside the ISR');
    h.run.onObservation(obs(5600, { leader: 'broker-2', epoch: 4, logs: caughtUpLogs }));
    assert.deepEqual(h.steps(), ['leader-lost@10', 'lease-expired@2000', 'new-leader@2400', 'first-commit@3200', 'old-leader-restarted@3300', 'caught-up@4600']);
    assert.equal(h.run.timeline.state, 'done');
    assert.equal(h.run.timeline.gapMs, 4200 - 1010);
    assert.deepEqual(h.run.timeline.newLeader, { id: 'broker-2', epoch: 4 });
    assert.equal(h.finished()?.state, 'done');
  });

  it('keeps the steps in order when a produce is acknowledged before the poll sees the new leader', async () => {
    const h = harness({ restartOldLeader: false });
    await h.run.begin();
    h.run.onAck(2500, 2450); // the ack proves a new leader was there by 2500
    h.run.onObservation(obs(2900, { leader: 'broker-3', epoch: 4, up: others }));
    const times = h.run.timeline.steps.map((s) => s.at);
    assert.deepEqual(h.run.timeline.steps.map((s) => s.step), ['leader-lost', 'lease-expired', 'new-leader', 'first-commit']);
    assert.deepEqual(times, [...times].sort((a, b) => a - b));
    assert.equal(h.run.timeline.steps[2]!.at, 2500, 'new-leader capped by the first ack');
    assert.equal(h.run.timeline.state, 'done');
  });

  it('ignores an ack from before the kill', async () => {
    const h = harness({ restartOldLeader: false });
    h.run.onAck(900, 880);
    await h.run.begin();
    h.run.onObservation(obs(3000, { leader: 'broker-2', epoch: 4, up: others }));
    assert.deepEqual(h.run.timeline.steps.map((s) => s.step), ['leader-lost', 'lease-expired', 'new-leader']);
  });

  it('ignores an ack answered after the kill for a produce sent before it (the old leader answered it)', async () => {
    const h = harness({ restartOldLeader: false });
    h.at(1010);
    await h.run.begin();
    h.run.onAck(1020, 1005);
    h.run.onObservation(obs(3000, { leader: 'broker-2', epoch: 4, up: others }));
    assert.deepEqual(h.run.timeline.steps.map((s) => s.step), ['leader-lost', 'lease-expired', 'new-leader']);
    assert.equal(h.run.timeline.gapMs, null);
  });

  it('brings the old leader back even when the demo producer gets nothing through', async () => {
    const h = harness({ mode: 'pause' });
    await h.run.begin();
    h.run.onObservation(obs(3000, { leader: 'broker-2', epoch: 4, up: others }));
    h.run.onObservation(obs(3000 + NO_COMMIT_GRACE_MS + 1, { leader: 'broker-2', epoch: 4, up: others }));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(h.actions, ['down broker-1 pause', 'back broker-1 pause']);
    assert.equal(h.run.timeline.gapMs, null);
  });

  it('without the demo producer, sees a commit in the new leader\'s high-water mark, or goes on without one', async () => {
    const h = harness({ demoProducer: false, restartOldLeader: false }, 10);
    await h.run.begin();
    h.run.onObservation(obs(3000, { leader: 'broker-2', epoch: 4, up: others, logs: { 'broker-2': [{ hwm: 10, leo: 10 }] } }));
    h.run.onObservation(obs(3500, { leader: 'broker-2', epoch: 4, up: others, logs: { 'broker-2': [{ hwm: 11, leo: 11 }] } }));
    assert.deepEqual(h.run.timeline.steps.map((s) => s.step), ['leader-lost', 'lease-expired', 'new-leader', 'first-commit']);

    const quiet = harness({ demoProducer: false, restartOldLeader: false }, 10);
    await quiet.run.begin();
    quiet.run.onObservation(obs(3000, { leader: 'broker-2', epoch: 4, up: others }));
    quiet.run.onObservation(obs(3000 + NO_COMMIT_GRACE_MS + 1, { leader: 'broker-2', epoch: 4, up: others }));
    assert.equal(quiet.run.timeline.state, 'done');
    assert.equal(quiet.run.timeline.gapMs, null);
  });

  it('pause mode pauses and resumes the old leader', async () => {
    const h = harness({ mode: 'pause' });
    await h.run.begin();
    h.run.onAck(2000, 1900);
    h.run.onObservation(obs(2100, { leader: 'broker-2', epoch: 4, up: others }));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(h.actions, ['down broker-1 pause', 'back broker-1 pause']);
    assert.match(h.run.timeline.steps.at(-1)!.detail, /resumed \(SIGCONT\)/);
  });

  it('fails with the step it waited for when the cluster does not heal in time', async () => {
    const h = harness();
    await h.run.begin();
    h.run.onObservation(obs(1000 + FAILOVER_TIMEOUT_MS + 1, { leader: null, up: [] , noView: true }));
    assert.equal(h.run.timeline.state, 'failed');
    assert.match(h.run.timeline.error ?? '', /waiting for the old lease to expire/);
  });
});
