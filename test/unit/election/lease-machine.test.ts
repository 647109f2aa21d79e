import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { leaseSafetyMarginMs } from '../../../broker-runtime/src/election/decisions.js';
import { epochFloor, initialLease, initialRecoveryClock, leaseStep, mayWrite, missingForMs, recoveryClockAfterRead, type LeaseState } from '../../../broker-runtime/src/election/lease-machine.js';

const LEASE = 1000;
const MARGIN = leaseSafetyMarginMs(LEASE);
const leader = (epoch: number, deadline: number): LeaseState => ({ role: 'leader', epoch, deadline });

describe('lease machine (election/lease-machine.ts): events in, state and effects out', () => {
  test('winning makes a leader writable until a lease minus the margin after the acquire was sent', () => {
    const { state, effects } = leaseStep(initialLease, { type: 'won', epoch: 3, sentAt: 100 }, LEASE);
    assert.deepEqual(state, leader(3, 100 + LEASE - MARGIN));
    assert.deepEqual(effects, [{ type: 'arm-deadline', at: 100 + LEASE - MARGIN }]);
    assert.ok(mayWrite(state, 100 + LEASE - MARGIN - 1));
    assert.ok(!mayWrite(state, 100 + LEASE - MARGIN));
  });

  test('a renew moves the deadline to a lease after its send, not after its answer', () => {
    const { state } = leaseStep(leader(3, 500), { type: 'renewed', sentAt: 400 }, LEASE);
    assert.equal(state.deadline, 400 + LEASE - MARGIN);
  });

  test('a renew answered after the broker stopped leading changes nothing', () => {
    assert.deepEqual(leaseStep(initialLease, { type: 'renewed', sentAt: 400 }, LEASE), { state: initialLease, effects: [] });
  });

  test('a failed renew demotes only once the deadline has passed (its outcome is unknown)', () => {
    const s = leader(3, 1000);
    assert.deepEqual(leaseStep(s, { type: 'renew-failed', now: 999, why: 'timeout' }, LEASE), { state: s, effects: [] });
    const down = leaseStep(s, { type: 'renew-failed', now: 1000, why: 'timeout' }, LEASE);
    assert.deepEqual(down.state, { role: 'follower', epoch: 3, deadline: 0 });
    assert.deepEqual(down.effects, [{ type: 'demote', reason: 'could not renew the lease in time (timeout)' }]);
  });

  test('a refused renew demotes at once', () => {
    assert.equal(leaseStep(leader(3, 9999), { type: 'renew-refused' }, LEASE).effects[0]?.type, 'demote');
  });

  test('the deadline timer demotes only at or after the deadline', () => {
    assert.deepEqual(leaseStep(leader(3, 1000), { type: 'deadline-check', now: 999 }, LEASE).effects, []);
    assert.deepEqual(leaseStep(leader(3, 1000), { type: 'deadline-check', now: 1000 }, LEASE).effects, [{ type: 'demote', reason: 'lease deadline passed without a successful renew' }]);
  });

  test('a newer epoch deposes a leader and is adopted; an older or equal one is ignored', () => {
    const newer = leaseStep(leader(3, 1000), { type: 'epoch-seen', epoch: 4 }, LEASE);
    assert.deepEqual(newer.state, { role: 'follower', epoch: 4, deadline: 0 });
    assert.equal(newer.effects.length, 1);
    assert.deepEqual(leaseStep(leader(3, 1000), { type: 'epoch-seen', epoch: 3 }, LEASE).effects, []);
    assert.deepEqual(leaseStep(initialLease, { type: 'epoch-seen', epoch: 7 }, LEASE), { state: { ...initialLease, epoch: 7 }, effects: [] });
  });

  test('a follower is never demoted again (one demote effect per leadership)', () => {
    for (const e of [{ type: 'renew-refused' as const }, { type: 'step-down' as const, reason: 'x' }, { type: 'deadline-check' as const, now: 1e9 }]) {
      assert.deepEqual(leaseStep(initialLease, e, LEASE).effects, []);
    }
  });

  test('the recovery clock starts at the first look without an in-sync set and restarts on a new connection', () => {
    let c = recoveryClockAfterRead(initialRecoveryClock, false, 1, 100);
    c = recoveryClockAfterRead(c, false, 1, 600);
    assert.equal(missingForMs(c, 600), 500);
    c = recoveryClockAfterRead(c, false, 2, 700); // Redis restarted meanwhile
    assert.equal(missingForMs(c, 700), 0);
    c = recoveryClockAfterRead(c, true, 2, 800);
    assert.equal(missingForMs(c, 900), 0);
  });

  test('the epoch floor is above every epoch any live broker has seen, in Redis, state files or logs', () => {
    const floor = epochFloor({
      ownHighest: 3,
      known: 4,
      epochCounter: 2,
      ownLastLogEpoch: 5,
      candidates: [{ id: 'b2', highestEpoch: 6, lastLogEpoch: 8, logEndTotal: 1 }],
    });
    assert.equal(floor, 8);
    const stated = epochFloor({ ownHighest: 0, known: 0, epochCounter: 0, ownLastLogEpoch: -1, candidates: [], statedEpoch: 7 });
    assert.equal(stated, 7, 'an epoch a candidacy stated counts after the candidacy expired (StatedHistory)');
  });
});
