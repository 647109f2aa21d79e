import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { followerPollMs, hastyRecoveryWaitMs, leaseSafetyMarginMs, recoveryWaitMs, REDIS_RETRY_MS, redisCommandTimeoutMs } from '../../../broker-runtime/src/election/decisions.js';
import { Disk } from '../../sim/disk.js';
import { LEASE_MS, ManualTime, RENEW_MS, SpecRedis, specBroker } from './elector-harness.js';

/**
 * The elector's specification, one rule per test (as etcd's raft_paper_test.go): the real
 * `Elector` over manual time, a fake Redis that applies each script atomically, and a disk that
 * stands for broker-state.json. Nothing here sleeps: time moves only when a test advances it.
 */

const POLL = followerPollMs(RENEW_MS);

function world() {
  const time = new ManualTime();
  return { time, redis: new SpecRedis(time) };
}

describe('election: who may take the lease', () => {
  test('a broker named in the recorded in-sync set takes a free lease with the next epoch (mode isr)', async () => {
    const { time, redis } = world();
    redis.recordIsr({ epoch: 4, members: ['b1', 'b2'], version: 3 });
    const b1 = specBroker(redis, 'b1');
    await time.advance(1);
    assert.deepEqual(b1.elections.map((e) => [e.epoch, e.mode]), [[5, 'isr']]);
    assert.deepEqual(b1.elections[0]!.isr.members, ['b1', 'b2'], 'the in-sync set Redis holds comes with the acquire');
    assert.ok(b1.elector.canWrite());
    assert.equal(redis.fake.peek().holder?.id, 'b1');
  });

  test('a broker outside the recorded in-sync set never takes the lease, however long it waits', async () => {
    const { time, redis } = world();
    redis.recordIsr({ epoch: 4, members: ['b2'], version: 0 });
    const b1 = specBroker(redis, 'b1', { logEpoch: 9, logEnd: 1000 });
    await time.advance(20 * LEASE_MS);
    assert.equal(b1.elections.length, 0);
    assert.equal(redis.fake.peek().holder, null);
  });

  test('a follower knows the holder of the lease as its leader, and remembers its epoch durably', async () => {
    const { time, redis } = world();
    redis.recordIsr({ epoch: 2, members: ['b2'], version: 0 });
    const b2 = specBroker(redis, 'b2');
    await time.advance(1);
    const b1 = specBroker(redis, 'b1');
    await time.advance(POLL);
    assert.equal(b1.elector.leader()?.id, 'b2');
    assert.equal(b1.elector.currentEpoch(), b2.elector.currentEpoch());
    assert.equal(b1.disk.highestEpoch, 3);
    assert.equal(b1.elector.canWrite(), false);
  });

  test('only one of two in-sync brokers wins: the lease is taken atomically', async () => {
    const { time, redis } = world();
    redis.recordIsr({ epoch: 1, members: ['b1', 'b2'], version: 0 });
    const b1 = specBroker(redis, 'b1');
    const b2 = specBroker(redis, 'b2');
    await time.advance(10 * LEASE_MS);
    assert.equal(b1.elections.length + b2.elections.length, 1);
    assert.equal([b1, b2].filter((b) => b.elector.canWrite()).length, 1);
  });
});

describe('election: the lease and the write deadline', () => {
  test('a leader renews every renew period and stays writable while Redis answers', async () => {
    const { time, redis } = world();
    redis.recordIsr({ epoch: 1, members: ['b1'], version: 0 });
    const b1 = specBroker(redis, 'b1');
    await time.advanceChecking(20 * LEASE_MS, 10, () => assert.ok(b1.elector.canWrite(), 'writable throughout'));
    assert.equal(b1.elections.length, 1);
    assert.deepEqual(b1.demotions, []);
  });

  test('a leader cut off from Redis stops writing before its lease can have expired in Redis', async () => {
    const { time, redis } = world();
    redis.recordIsr({ epoch: 1, members: ['b1'], version: 0 });
    const b1 = specBroker(redis, 'b1');
    await time.advance(3 * RENEW_MS + 1);
    redis.hang = true;
    let stoppedAt: number | null = null;
    await time.advanceChecking(2 * LEASE_MS, 1, () => {
      const leaseInRedis = redis.fake.peek().holder?.id === 'b1';
      // The rule: whenever the leader may write, Redis still holds its lease (by the safety margin).
      if (b1.elector.canWrite()) assert.ok(leaseInRedis, `writable at ${time.now()} after its lease expired in Redis`);
      else stoppedAt ??= time.now();
    });
    assert.ok(stoppedAt !== null, 'it stopped writing');
    assert.equal(b1.elector.isLeader(), false);
    assert.match(b1.demotions[0]!, /lease deadline passed|could not renew the lease in time/);
  });

  test('the deadline is measured from when the renew was sent, a lease minus the safety margin', async () => {
    const { time, redis } = world();
    redis.recordIsr({ epoch: 1, members: ['b1'], version: 0 });
    const b1 = specBroker(redis, 'b1');
    await time.advance(1);
    const sentAt = time.now() - 1; // the acquire went out at the first tick
    assert.equal(b1.elector.leaseMsLeft(), Math.round(sentAt + LEASE_MS - leaseSafetyMarginMs(LEASE_MS) - time.now()));
  });

  test('a leader whose renew Redis refuses (its lease is gone there) steps down at once', async () => {
    const { time, redis } = world();
    redis.recordIsr({ epoch: 1, members: ['b1'], version: 0 });
    const b1 = specBroker(redis, 'b1');
    await time.advance(1);
    redis.fake.restartEmpty(); // Redis without persistence came back empty
    await time.advance(RENEW_MS);
    assert.equal(b1.elector.canWrite(), false);
    assert.deepEqual(b1.demotions, ['the lease is held by someone else or expired in Redis']);
  });

  test('an epoch newer than its own, seen from another leader, deposes the leader and is remembered', async () => {
    const { time, redis } = world();
    redis.recordIsr({ epoch: 1, members: ['b1'], version: 0 });
    const b1 = specBroker(redis, 'b1');
    await time.advance(1);
    const epoch = b1.elector.currentEpoch();
    await b1.elector.observeEpoch(epoch + 5, { id: 'b9', url: 'http://b9', epoch: epoch + 5 });
    assert.equal(b1.elector.canWrite(), false);
    assert.equal(b1.elector.currentEpoch(), epoch + 5);
    assert.equal(b1.disk.highestEpoch, epoch + 5);
    assert.deepEqual(b1.demotions, [`a newer leader epoch ${epoch + 5} exists`]);
  });

  test('an older epoch changes nothing', async () => {
    const { time, redis } = world();
    redis.recordIsr({ epoch: 6, members: ['b1'], version: 0 });
    const b1 = specBroker(redis, 'b1');
    await time.advance(1);
    await b1.elector.observeEpoch(3);
    assert.ok(b1.elector.canWrite());
    assert.equal(b1.elector.currentEpoch(), 7);
  });

  test('stop releases the lease at once, so the next in-sync broker need not wait for it to expire', async () => {
    const { time, redis } = world();
    redis.recordIsr({ epoch: 1, members: ['b1', 'b2'], version: 0 });
    const b1 = specBroker(redis, 'b1');
    await time.advance(1);
    const b2 = specBroker(redis, 'b2');
    await time.advance(1);
    await b1.elector.stop();
    assert.equal(redis.fake.peek().holder, null);
    assert.deepEqual(b1.demotions, ['shutting down']);
    b2.store.deliverRelease(); // the events channel
    await time.advance(1);
    assert.equal(b2.elections.length, 1, 'taken within a millisecond of the release, not a lease later');
  });
});

describe('election: recovery when Redis lost its in-sync set', () => {
  test('in a brand-new cluster the best candidate leads once every live broker can have stated its candidacy', async () => {
    const { time, redis } = world();
    const b1 = specBroker(redis, 'b1');
    await time.advance(recoveryWaitMs(RENEW_MS, LEASE_MS, false) - 1);
    assert.equal(b1.elections.length, 0);
    await time.advance(2 * POLL);
    assert.deepEqual(b1.elections.map((e) => e.mode), ['recover']);
  });

  test('a broker that knows nothing does not lead while the broker holding the records waits out a command timeout (sim seed 1579)', async () => {
    // Redis restarted empty. b1 led epoch 1 and holds its records; the command it sent just before
    // reaching Redis again hangs for a whole command timeout. b2 starts with an empty disk: it sees
    // no epoch and no candidate with history, exactly as in a brand-new cluster.
    const { time, redis } = world();
    const disk = new Disk(1);
    disk.highestEpoch = 1;
    disk.lastIsr = { epoch: 1, members: ['b1'], version: 0 };
    redis.hanging.add('b1');
    const b1 = specBroker(redis, 'b1', { disk, logEpoch: 1, logEnd: 837 });
    await time.advance(1);
    redis.hanging.delete('b1'); // b1 reaches Redis again; its command in flight still times out
    const b2 = specBroker(redis, 'b2');
    await time.advance(redisCommandTimeoutMs(LEASE_MS, RENEW_MS) + REDIS_RETRY_MS + 2 * POLL);
    assert.equal(b2.elections.length, 0, 'b2 waited for every candidacy: b1 states epoch 1 and the in-sync set [b1]');
    await time.advance(10 * LEASE_MS);
    assert.equal(b2.elections.length, 0, 'b2 is not in the in-sync set b1 remembers');
    assert.deepEqual(b1.elections.map((e) => [e.epoch, e.mode]), [[2, 'recover']], 'b1 recovers, above the epoch it used');
  });

  test('what a candidacy stated outlives it: a broker whose Redis link stalls after stating still counts (sim seed 111)', async () => {
    // Redis restarted empty. b1 led epoch 1 and holds its records; it states its candidacy, then
    // its Redis link stalls (every command hangs until it times out) for many leases, so its
    // candidacy expires. b2 starts with an empty disk. Before the stated history, b2 then saw
    // nobody's past and recovered epoch 1 again once the recovery wait was over.
    for (const forgetStatedHistory of [false, true]) {
      const { time, redis } = world();
      const disk = new Disk(1);
      disk.highestEpoch = 1;
      disk.lastIsr = { epoch: 1, members: ['b1'], version: 0 };
      const b1 = specBroker(redis, 'b1', { disk, logEpoch: 1, logEnd: 837, rules: { forgetStatedHistory } });
      const b2 = specBroker(redis, 'b2', { rules: { forgetStatedHistory } });
      await time.advance(1);
      redis.hanging.add('b1');
      await time.advance(10 * LEASE_MS);
      if (forgetStatedHistory) {
        assert.deepEqual(b2.elections.map((e) => e.epoch), [1], 'the old rule: b2 reuses epoch 1');
        continue;
      }
      assert.equal(b2.elections.length, 0, 'b2 is not in the in-sync set b1 stated, though b1 is silent');
      redis.hanging.delete('b1');
      await time.advance(10 * LEASE_MS);
      assert.equal(b2.elections.length, 0);
      assert.deepEqual(b1.elections.map((e) => [e.epoch, e.mode]), [[2, 'recover']], 'b1 recovers once heard again, above its epoch');
    }
  });

  test('the stated history never goes back: a broker restarted with a wiped disk under the same id cannot erase what it stated', async () => {
    const { time, redis } = world();
    const disk = new Disk(1);
    disk.highestEpoch = 4;
    disk.lastIsr = { epoch: 4, members: ['b1', 'b3'], version: 2 };
    const before = specBroker(redis, 'b1', { disk, logEpoch: 4, logEnd: 90 });
    await time.advance(1);
    await before.elector.stop();
    const wiped = specBroker(redis, 'b1');
    const b2 = specBroker(redis, 'b2');
    await time.advance(10 * LEASE_MS);
    assert.equal(wiped.elections.length + b2.elections.length, 0, 'b3 (a member of the stated set [b1, b3]) has not been heard');
    const kept = new Disk(1);
    kept.highestEpoch = 4;
    kept.lastIsr = { epoch: 4, members: ['b1', 'b3'], version: 2 };
    const b3 = specBroker(redis, 'b3', { disk: kept, logEpoch: 4, logEnd: 90 });
    await time.advance(10 * LEASE_MS);
    assert.equal(wiped.elections.length + b2.elections.length, 0, 'b1 with a wiped disk ranks below b3');
    assert.deepEqual(b3.elections.map((e) => [e.epoch, e.mode]), [[5, 'recover']]);
  });

  test('with any history, nobody recovers before a lease plus a poll has passed since the first look', async () => {
    const { time, redis } = world();
    const disk = new Disk(1);
    disk.highestEpoch = 5;
    disk.lastIsr = { epoch: 5, members: ['b1'], version: 0 };
    const b1 = specBroker(redis, 'b1', { disk, logEpoch: 5, logEnd: 10 });
    const wait = recoveryWaitMs(RENEW_MS, LEASE_MS, true);
    await time.advance(wait - 1);
    assert.equal(b1.elections.length, 0);
    await time.advance(2 * POLL);
    assert.deepEqual(b1.elections.map((e) => [e.epoch, e.mode]), [[6, 'recover']]);
  });

  test('a failed read of Redis starts the recovery wait over', async () => {
    const { time, redis } = world();
    const disk = new Disk(1);
    disk.highestEpoch = 5;
    disk.lastIsr = { epoch: 5, members: ['b1'], version: 0 };
    const b1 = specBroker(redis, 'b1', { disk, logEpoch: 5, logEnd: 10 });
    const wait = recoveryWaitMs(RENEW_MS, LEASE_MS, true);
    await time.advance(wait - 2 * POLL);
    redis.down = true;
    await time.advance(POLL);
    redis.down = false;
    await time.advance(2 * POLL);
    assert.equal(b1.elections.length, 0, 'the time before the failure does not count');
    await time.advance(wait);
    assert.equal(b1.elections.length, 1);
  });

  test('only a member of the newest in-sync set any live broker remembers may recover', async () => {
    const { time, redis } = world();
    const ahead = new Disk(1);
    ahead.highestEpoch = 8;
    ahead.lastIsr = { epoch: 8, members: ['b1'], version: 2 };
    // b2 has the longer log but was dropped from the in-sync set (it remembers an older set).
    const behind = new Disk(1);
    behind.highestEpoch = 8;
    behind.lastIsr = { epoch: 8, members: ['b1', 'b2'], version: 1 };
    const b2 = specBroker(redis, 'b2', { disk: behind, logEpoch: 8, logEnd: 500 });
    const b1 = specBroker(redis, 'b1', { disk: ahead, logEpoch: 8, logEnd: 400 });
    await time.advance(10 * LEASE_MS);
    assert.equal(b2.elections.length, 0);
    assert.deepEqual(b1.elections.map((e) => e.mode), ['recover']);
  });

  test('a recovering leader takes an epoch above every epoch any candidate has seen: none is reused', async () => {
    const { time, redis } = world();
    const disk = new Disk(1);
    disk.highestEpoch = 3;
    disk.lastIsr = { epoch: 3, members: ['b1'], version: 0 };
    specBroker(redis, 'b2', { logEpoch: 9, logEnd: 50 }); // saw epochs up to 9 (in its log), out of the set
    const b1 = specBroker(redis, 'b1', { disk, logEpoch: 3, logEnd: 40 });
    await time.advance(10 * LEASE_MS);
    assert.equal(b1.elections.length, 1);
    assert.ok(b1.elections[0]!.epoch > 9, `epoch ${b1.elections[0]!.epoch} must be above 9`);
  });
});

describe('election: rules the simulator can put back (ElectorRules), off in production', () => {
  test('hastyRecovery (revert-D) recovers after a few polls even with history; the rules as they are wait a lease', async () => {
    for (const hasty of [false, true]) {
      const { time, redis } = world();
      const disk = new Disk(1);
      disk.highestEpoch = 5;
      disk.lastIsr = { epoch: 5, members: ['b1'], version: 0 };
      const b1 = specBroker(redis, 'b1', { disk, logEpoch: 5, logEnd: 10, rules: { hastyRecovery: hasty } });
      await time.advance(hastyRecoveryWaitMs(RENEW_MS) + POLL);
      assert.equal(b1.elections.length, hasty ? 1 : 0);
    }
  });

  test('ignoreWriteDeadline (no-write-deadline) lets a cut-off leader write at its deadline (as one woken from a pause there)', async () => {
    for (const ignore of [false, true]) {
      const { time, redis } = world();
      redis.recordIsr({ epoch: 1, members: ['b1'], version: 0 });
      redis.hang = true; // every renew goes unanswered
      const b1 = specBroker(redis, 'b1', { rules: { ignoreWriteDeadline: ignore } });
      const electedAt = time.now();
      redis.hang = false;
      await time.advance(0);
      redis.hang = true;
      await time.advance(LEASE_MS - leaseSafetyMarginMs(LEASE_MS) - (time.now() - electedAt)); // the deadline, before its timer fires
      assert.ok(b1.elector.isLeader());
      assert.equal(b1.elector.canWrite(), ignore);
    }
  });
});
