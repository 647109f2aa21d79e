import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { acquireMode, candidaciesHeardWithinMs, clusterHasHistory, hastyRecoveryWaitMs, mayRecover, newerIsr, leaseSafetyMarginMs, nextLookDelay, rankCandidates, recoveryWaitMs, redisCommandTimeoutMs, writableUntil } from '../../../broker-runtime/src/election/decisions.js';
import { epochAt } from '../../../broker-runtime/src/log/leader-epoch-cache.js';
import { divergencePoint, truncationConflicts } from '../../../broker-runtime/src/replication/divergence.js';
import { laggingFollowers, mayRejoin, nextHighWatermark } from '../../../broker-runtime/src/replication/isr.js';

describe('lease decisions', () => {
  test('a leader stops writing before its lease can have expired in Redis', () => {
    for (const lease of [100, 2000, 10_000, 60_000]) {
      const until = writableUntil(1000, lease);
      assert.ok(until < 1000 + lease, `lease ${lease}`);
      assert.ok(until >= 1000 + lease - leaseSafetyMarginMs(lease));
      assert.ok(leaseSafetyMarginMs(lease) <= 500);
    }
  });

  test('a follower looks again just after the lease runs out when that is sooner than its poll', () => {
    assert.equal(nextLookDelay(120, 500), 125);
    assert.equal(nextLookDelay(5000, 500), 500);
    assert.equal(nextLookDelay(-2, 200), 200);
  });

  test('only an in-sync broker may take the lease, unless unclean election is on', () => {
    const base = { self: 'b2', unclean: false, isrMissingForMs: 0, recoveryWaitMs: 1000, candidates: [] };
    assert.equal(acquireMode({ ...base, isrMembers: ['b1', 'b2'] }), 'isr');
    assert.equal(acquireMode({ ...base, isrMembers: ['b1'] }), null);
    assert.equal(acquireMode({ ...base, isrMembers: ['b1'], unclean: true }), 'unclean');
  });

  test('an in-sync set older than the one a broker remembers (Redis lost writes in a failover) does not let a broker that left the newer one lead', () => {
    const base = { self: 'b3', unclean: false, isrMissingForMs: 0, recoveryWaitMs: 1000, candidates: [] };
    const forgotten = { epoch: 4, version: 2, members: ['b1', 'b2', 'b3'] };
    const shrunk = { epoch: 4, version: 3, members: ['b1', 'b2'] };
    assert.equal(acquireMode({ ...base, isrMembers: forgotten.members, recordedIsr: forgotten, rememberedIsr: shrunk }), null);
    assert.equal(acquireMode({ ...base, isrMembers: forgotten.members, recordedIsr: forgotten, rememberedIsr: { ...shrunk, epoch: 5, version: 0 } }), null, 'a newer epoch counts too');
    assert.equal(acquireMode({ ...base, self: 'b2', isrMembers: forgotten.members, recordedIsr: forgotten, rememberedIsr: shrunk }), 'isr', 'a member of both may lead');
    assert.equal(acquireMode({ ...base, isrMembers: shrunk.members, recordedIsr: shrunk, rememberedIsr: forgotten }), null, 'the recorded set decides when it is the newer one');
    assert.equal(acquireMode({ ...base, isrMembers: forgotten.members, recordedIsr: forgotten, rememberedIsr: forgotten }), 'isr');
    assert.equal(acquireMode({ ...base, isrMembers: forgotten.members, recordedIsr: forgotten, rememberedIsr: shrunk, unclean: true }), 'unclean');
  });

  test('with no in-sync set recorded, only the best candidate takes the lease, after the wait', () => {
    const candidates = [
      { id: 'b1', highestEpoch: 5, lastLogEpoch: 4, logEndTotal: 100 },
      { id: 'b2', highestEpoch: 5, lastLogEpoch: 5, logEndTotal: 90 },
      { id: 'b3', highestEpoch: 5, lastLogEpoch: 5, logEndTotal: 90 },
    ];
    const base = { unclean: false, isrMembers: null, recoveryWaitMs: 1000, candidates };
    assert.equal(acquireMode({ ...base, self: 'b2', isrMissingForMs: 500 }), null, 'waits for others to state their candidacy');
    assert.equal(acquireMode({ ...base, self: 'b2', isrMissingForMs: 1500 }), 'recover');
    assert.equal(acquireMode({ ...base, self: 'b1', isrMissingForMs: 1500 }), null, 'an older last epoch loses to a newer one');
    assert.equal(acquireMode({ ...base, self: 'b3', isrMissingForMs: 1500 }), null, 'ties go to the smaller id');
    assert.deepEqual(rankCandidates(candidates).map((c) => c.id), ['b2', 'b3', 'b1']);
  });
});

describe('recovery after Redis lost its data', () => {
  test('nobody recovers before every live broker reaching Redis can have stated its candidacy; with history, not before a lease either', () => {
    // lease 10 s, renew 5 s: a command may hang 5 s (the command timeout), the retry comes 250 ms
    // later, plus a poll. A broker with an empty disk cannot tell a brand-new cluster from one whose
    // Redis lost its data while the broker holding the records waits out a timeout (sim seed 1579).
    assert.equal(redisCommandTimeoutMs(10_000, 5000), 5000);
    assert.equal(candidaciesHeardWithinMs(10_000, 5000), 5000 + 250 + 500);
    assert.equal(recoveryWaitMs(5000, 10_000, false), 5750, 'no history seen: until every candidacy can be heard');
    assert.equal(recoveryWaitMs(5000, 10_000, true), 10_500, 'history: a full lease plus a poll, the old leader\'s lease has run out');
    // A lease of 30 s renewed every 20 s: the renew period, not the (capped) timeout, is the longer wait.
    assert.equal(candidaciesHeardWithinMs(30_000, 20_000), 20_000 + 500);
    // Short leases: the command timeout's floor (200 ms) and the retry outlast a lease plus a poll.
    assert.equal(recoveryWaitMs(150, 300, true), Math.max(200 + 250, 150) + 150);
    assert.equal(recoveryWaitMs(500, 2000, true), 2500);
    assert.equal(recoveryWaitMs(500, 2000, false), 1500 + 250 + 500);
    assert.equal(hastyRecoveryWaitMs(200), 600, 'revert-D: a few polls');
    assert.equal(clusterHasHistory(0, [{ id: 'b1', highestEpoch: 0, lastLogEpoch: -1, logEndTotal: 0 }]), false);
    assert.equal(clusterHasHistory(3, []), true, 'Redis still counts epochs');
    assert.equal(clusterHasHistory(0, [{ id: 'b1', highestEpoch: 4, lastLogEpoch: 4, logEndTotal: 0 }]), true);
    assert.equal(clusterHasHistory(0, [{ id: 'b1', highestEpoch: 0, lastLogEpoch: -1, logEndTotal: 9 }]), true);
  });
});

describe('recovery only by members of the newest remembered in-sync set', () => {
  const c = (id: string, isr: { epoch: number; version: number; members: string[] } | null, lastLogEpoch = 3) => ({ id, highestEpoch: 3, lastLogEpoch, logEndTotal: 10, isr });
  test('newerIsr orders by epoch, then by write number', () => {
    const a = { epoch: 3, version: 2, members: ['b1'] };
    const b = { epoch: 3, version: 5, members: ['b1', 'b2'] };
    const d = { epoch: 4, version: 0, members: ['b2'] };
    assert.equal(newerIsr(a, b), b);
    assert.equal(newerIsr(b, d), d);
    assert.equal(newerIsr(null, a), a);
  });
  test('a broker outside the newest set never recovers; members wait until all of them are present', () => {
    const newest = { epoch: 3, version: 4, members: ['b1', 'b2'] };
    const older = { epoch: 3, version: 1, members: ['b1', 'b2', 'b3'] };
    // b3 remembers an older set that includes it, but b1 remembers the newer one without b3
    assert.equal(mayRecover('b3', older, [c('b1', newest), c('b3', older)]), false);
    // b1 is a member, but b2 (also a member) has not stated its candidacy yet
    assert.equal(mayRecover('b1', newest, [c('b1', newest), c('b3', older)]), false);
    // both members present: the best ranked member recovers
    assert.equal(mayRecover('b1', newest, [c('b1', newest, 3), c('b2', newest, 2), c('b3', older, 5)]), true);
    assert.equal(mayRecover('b2', newest, [c('b1', newest, 3), c('b2', newest, 2)]), false);
    // nothing remembered anywhere (a brand-new cluster): the best ranked candidate
    assert.equal(mayRecover('b1', null, [c('b1', null), c('b2', null)]), true);
  });

  test('what a candidacy stated counts after it expired: its in-sync set, and its epochs as history (sim seed 111)', () => {
    const c = (id: string) => ({ id, highestEpoch: 0, lastLogEpoch: -1, logEndTotal: 0, isr: null });
    const stated = { epoch: 2, version: 1, members: ['b2', 'b3'] };
    // b1 (an empty disk) is the only live candidate; b2 and b3 stated [b2, b3] before going silent
    assert.equal(mayRecover('b1', null, [c('b1')]), true, 'without the stated history: a brand-new cluster to its eyes');
    assert.equal(mayRecover('b1', null, [c('b1')], stated), false);
    assert.equal(mayRecover('b2', null, [c('b1'), c('b2')], stated), false, 'b3, a member of the stated set, is not present');
    assert.equal(clusterHasHistory(0, [c('b1')]), false);
    assert.equal(clusterHasHistory(0, [c('b1')], { highestEpoch: 2, isr: null }), true);
    assert.equal(clusterHasHistory(0, [c('b1')], { highestEpoch: 0, isr: stated }), true);
    assert.equal(clusterHasHistory(0, [c('b1')], { highestEpoch: 0, isr: null }), false, 'a brand-new cluster stays one');
  });
});

describe('replication decisions', () => {
  test('a follower cuts only where its record conflicts with the leader (a retried request cuts nothing)', () => {
    const follower = [{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 10 }];
    // leader 3 asked to cut at 10 where it has epoch-3 records: the follower already has them
    assert.equal(truncationConflicts(follower, 10, 3, 3), false);
    // a stale epoch-1 tail at 10 while the leader has epoch 2 there: cut
    assert.equal(truncationConflicts([{ epoch: 1, startOffset: 0 }], 10, 2, 3), true);
    // the leader has nothing at 10: anything we hold there that is not from this leader goes
    assert.equal(truncationConflicts([{ epoch: 1, startOffset: 0 }], 10, -1, 3), true);
    // an older leader that does not say: cut as asked
    assert.equal(truncationConflicts(follower, 10, undefined, 3), true);
  });

  test('the high-water mark is the smallest log end among the leader and counted followers, never lower than before', () => {
    assert.equal(nextHighWatermark({ current: 3, leaderEnd: 10, followerEnds: [7, 9], inSyncCount: 3, minInsync: 1 }), 7);
    assert.equal(nextHighWatermark({ current: 8, leaderEnd: 10, followerEnds: [7], inSyncCount: 2, minInsync: 1 }), 8);
    assert.equal(nextHighWatermark({ current: 0, leaderEnd: 10, followerEnds: [], inSyncCount: 1, minInsync: 1 }), 10);
    assert.equal(nextHighWatermark({ current: 2, leaderEnd: 10, followerEnds: [], inSyncCount: 1, minInsync: 2 }), 2, 'nothing commits below MIN_INSYNC_REPLICAS');
  });

  test('followers lagging longer than the limit leave; caught-up ones rejoin', () => {
    const last: Record<string, number> = { b2: 1000, b3: 9500 };
    assert.deepEqual(laggingFollowers(['b2', 'b3'], (id) => last[id]!, 10_000, 2000), ['b2']);
    assert.equal(mayRejoin([{ followerEnd: 5, highWatermark: 5 }, { followerEnd: 9, highWatermark: 7 }], true), true);
    assert.equal(mayRejoin([{ followerEnd: 4, highWatermark: 5 }], true), false);
    assert.equal(mayRejoin([{ followerEnd: 5, highWatermark: 5 }], false), false);
  });

  test('epochAt finds the epoch of an offset from the epoch cache', () => {
    const e = [{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 10 }, { epoch: 4, startOffset: 15 }];
    assert.equal(epochAt(e, 0), 1);
    assert.equal(epochAt(e, 9), 1);
    assert.equal(epochAt(e, 10), 3);
    assert.equal(epochAt(e, 100), 4);
    assert.equal(epochAt([], 3), -1);
  });

  test('divergencePoint is where the logs stop agreeing on epochs', () => {
    const leader = [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 10 }];
    // follower wrote 10..12 under epoch 1 (a leader that died before committing them)
    assert.equal(divergencePoint(leader, 15, [{ epoch: 1, startOffset: 0 }], 13), 10);
    // a follower that is simply behind
    assert.equal(divergencePoint(leader, 15, leader, 12), 12);
    // identical logs
    assert.equal(divergencePoint(leader, 15, leader, 15), 15);
    // a follower with nothing
    assert.equal(divergencePoint(leader, 15, [], 0), 0);
    // a follower ahead of the leader in the same epoch: keep the common part, cut the rest
    assert.equal(divergencePoint(leader, 15, leader, 20), 15);
    // completely different history from offset 0
    assert.equal(divergencePoint(leader, 15, [{ epoch: 7, startOffset: 0 }], 4), 0);
  });
});
