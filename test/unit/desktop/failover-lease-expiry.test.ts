import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FailoverOptions } from '../../../src/shared/cluster-api.js';
import { leaseEndAtTakeDown, leaseExpiredAt, type LeaseKeyReading, type LeaseReport } from '../../../src/main/supervisor/failover/lease-expiry.js';
import { FailoverRun, type FailoverHost } from '../../../src/main/supervisor/failover/run.js';
import { obs } from './observations.js';

const old = { id: 'broker-1', epoch: 3 };
const others = ['broker-2', 'broker-3'];

describe('the lease-expired step is when the old lease ran out in Redis', () => {
  it('reads the end from the lease key\'s PTTL right after the take-down: exact within the read\'s round trip', () => {
    const end = leaseEndAtTakeDown(old, { holder: old, pttlMs: 1700, sentAt: 1020, answeredAt: 1023 }, { msLeft: 1500, askedAt: 900 });
    assert.equal(end?.at, 2720);
    assert.equal(end?.timing.source, 'redis-pttl');
    assert.equal(end?.timing.estimate, false);
    assert.equal(end?.timing.withinMs, 3);
  });

  it('without a reading of the old lease, estimates from the old leader\'s last /health (no earlier than that), and says so', () => {
    const end = leaseEndAtTakeDown(old, null, { msLeft: 1500, askedAt: 900 });
    assert.equal(end?.at, 2400);
    assert.equal(end?.timing.source, 'leader-health');
    assert.equal(end?.timing.estimate, true);
    assert.match(end!.timing.how, /^Estimate, at the earliest/);
    assert.equal(end?.goneBy, undefined);

    // Gone (or another's) when read: it ran out before that read was answered.
    const gone = leaseEndAtTakeDown(old, { holder: null, pttlMs: -2, sentAt: 1020, answeredAt: 1021 }, { msLeft: 1500, askedAt: 900 });
    assert.equal(gone?.goneBy, 1021);
    assert.match(gone!.timing.how, /already gone/);
    const another = leaseEndAtTakeDown(old, { holder: { id: 'broker-2', epoch: 4 }, pttlMs: 2000, sentAt: 1020, answeredAt: 1021 }, null);
    assert.equal(another, null, 'nothing better than the first poll without it');
    assert.equal(leaseEndAtTakeDown(old, null, null), null);
  });

  it('never puts the step before the take-down nor after the poll that found the lease gone', () => {
    const measured = leaseEndAtTakeDown(old, { holder: old, pttlMs: 1700, sentAt: 1020, answeredAt: 1023 }, null);
    assert.deepEqual(leaseExpiredAt(measured, 1010, 3000).at, 2720);
    // A poll saw it gone before the measured end (something renewed it after the read): only the poll is known.
    const early = leaseExpiredAt(measured, 1010, 2500);
    assert.equal(early.at, 2500);
    assert.equal(early.timing.source, 'first-seen');
    assert.equal(early.timing.estimate, true);
    assert.match(early.timing.how, /^Estimate, at the latest/);
    // An estimate from a /health long before the take-down: not before the take-down.
    const stale: LeaseReport = { msLeft: 100, askedAt: 500 };
    const clamped = leaseExpiredAt(leaseEndAtTakeDown(old, null, stale), 1010, 3000);
    assert.equal(clamped.at, 1010);
    assert.match(clamped.timing.how, /before the take-down/);
    // Found gone at the read: the estimate is capped by that read.
    const gone = leaseExpiredAt(leaseEndAtTakeDown(old, { holder: null, pttlMs: -2, sentAt: 1020, answeredAt: 1021 }, { msLeft: 1500, askedAt: 900 }), 1010, 3000);
    assert.equal(gone.at, 1021);
    assert.equal(gone.timing.source, 'first-seen');
  });
});

function harness(mode: FailoverOptions['mode'], reading: LeaseKeyReading | null | 'none', report: LeaseReport | null = null) {
  let clock = 1000;
  let release: () => void = () => {};
  const readStarted = new Promise<void>((r) => (release = r));
  let answer: (r: LeaseKeyReading | null) => void = () => {};
  const host: FailoverHost = {
    takeDown: async () => undefined,
    bringBack: async () => undefined,
    onStep: () => undefined,
    onFinish: () => undefined,
    lastLeaseReport: report,
    ...(reading === 'none'
      ? {}
      : {
          readLease: () =>
            new Promise<LeaseKeyReading | null>((resolve) => {
              answer = resolve;
              release();
            }),
        }),
  };
  const run = new FailoverRun(1, { mode, restartOldLeader: false, demoProducer: true }, old, 10, host, () => clock);
  return {
    run,
    at: (t: number) => (clock = t),
    readStarted,
    answer: () => answer(reading === 'none' ? null : reading),
    step: (name: string) => run.timeline.steps.find((s) => s.step === name),
  };
}

describe('FailoverRun times lease-expired by the lease, not by the poll', () => {
  for (const mode of ['kill', 'pause'] as const) {
    it(`${mode}: the step is at the PTTL's end, between the take-down and the first poll without the lease`, async () => {
      const h = harness(mode, { holder: old, pttlMs: 1700, sentAt: 1012, answeredAt: 1013 });
      h.at(1010);
      const begun = h.run.begin();
      await h.readStarted;
      // A poll while Redis is being read leaves the lease step for the next one.
      h.run.onObservation(obs(1011, { leader: null, epoch: 3, up: others }));
      assert.equal(h.step('lease-expired'), undefined);
      h.answer();
      await begun;
      h.run.onObservation(obs(1400, { leader: 'broker-1', epoch: 3, up: others }));
      assert.equal(h.step('lease-expired'), undefined, 'still held');
      h.run.onObservation(obs(3100, { leader: 'broker-2', epoch: 4, up: others }));
      const expired = h.step('lease-expired')!;
      assert.equal(expired.at, 2712);
      assert.equal(expired.sinceStartMs, 1712);
      assert.deepEqual({ source: expired.timing?.source, estimate: expired.timing?.estimate, withinMs: expired.timing?.withinMs }, { source: 'redis-pttl', estimate: false, withinMs: 1 });
      assert.equal(h.step('new-leader')!.at, 3100);
    });
  }

  it('without Redis, estimates from the old leader\'s last /health and marks the step an estimate', async () => {
    const h = harness('kill', null, { msLeft: 1500, askedAt: 900 });
    h.at(1010);
    const begun = h.run.begin();
    await h.readStarted;
    h.answer();
    await begun;
    h.run.onObservation(obs(3100, { leader: 'broker-2', epoch: 4, up: others }));
    const expired = h.step('lease-expired')!;
    assert.equal(expired.at, 2400);
    assert.equal(expired.timing?.source, 'leader-health');
    assert.equal(expired.timing?.estimate, true);
  });

  it('with nothing to read at all, the first poll without the lease, marked as an upper bound', async () => {
    const h = harness('pause', 'none');
    h.at(1010);
    await h.run.begin();
    h.run.onObservation(obs(3100, { leader: 'broker-2', epoch: 4, up: others }));
    const expired = h.step('lease-expired')!;
    assert.equal(expired.at, 3100);
    assert.equal(expired.timing?.source, 'first-seen');
    assert.equal(expired.timing?.estimate, true);
  });
});
