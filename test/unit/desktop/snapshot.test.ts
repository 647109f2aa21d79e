import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProcessState } from '../../../src/shared/cluster-api.js';
import { nextLastLease, type LastLease } from '../../../src/main/supervisor/watch/cluster-monitor.js';
import { parseGroups, sumCounter, type Observation } from '../../../src/main/supervisor/watch/observation.js';
import { RateTracker } from '../../../src/main/supervisor/watch/rates.js';
import { buildSnapshot, buildTopics, type SnapshotInput } from '../../../src/main/supervisor/watch/snapshot.js';
import { DEFAULT_SETTINGS } from '../../../src/main/supervisor/settings.js';
import { obs } from './observations.js';

describe('snapshot pieces', () => {
  it('shows every replica\'s log end offset and high-water mark, and the leader\'s HWM and log start per partition', () => {
    const topics = buildTopics(
      new Map([
        ['broker-1', [{ name: 'orders', partitions: [{ partition: 0, highWatermark: 5, logEndOffset: 7, logStartOffset: 2 }] }]],
        ['broker-2', [{ name: 'orders', partitions: [{ partition: 0, highWatermark: 4, logEndOffset: 5 }] }]],
      ]),
      'broker-1',
    );
    assert.deepEqual(topics, [
      {
        name: 'orders',
        partitions: [
          {
            partition: 0,
            highWatermark: 5,
            logStartOffset: 2,
            replicas: [
              { brokerId: 'broker-1', logEndOffset: 7, highWatermark: 5, logStartOffset: 2 },
              { brokerId: 'broker-2', logEndOffset: 5, highWatermark: 4, logStartOffset: 0 },
            ],
          },
        ],
      },
    ]);
    assert.equal(buildTopics(new Map([['broker-2', [{ name: 't', partitions: [{ partition: 0, highWatermark: 4, logEndOffset: 4 }] }]]]), null)[0]!.partitions[0]!.highWatermark, 4);
  });

  it('marks the replicas of brokers that did not answer the latest poll as stale, with when they last did, and takes the HWM from current ones', () => {
    const topics = buildTopics(
      new Map([
        ['broker-1', [{ name: 't', partitions: [{ partition: 0, highWatermark: 9, logEndOffset: 9 }] }]],
        ['broker-2', [{ name: 't', partitions: [{ partition: 0, highWatermark: 6, logEndOffset: 7 }] }]],
      ]),
      'broker-1',
      { fresh: new Set(['broker-2']), seenAt: new Map([['broker-1', 100], ['broker-2', 900]]) },
    );
    const p = topics[0]!.partitions[0]!;
    assert.deepEqual(p.replicas.map((r) => [r.brokerId, r.stale, r.seenAt]), [['broker-1', true, 100], ['broker-2', false, 900]]);
    // The leader's own answer is old: the HWM is the best a current replica knows, and not stale.
    assert.equal(p.highWatermark, 6);
    assert.equal(p.stale, false);
    const none = buildTopics(new Map([['broker-1', [{ name: 't', partitions: [{ partition: 0, highWatermark: 9, logEndOffset: 9 }] }]]]), null, { fresh: new Set(), seenAt: new Map() });
    assert.equal(none[0]!.partitions[0]!.stale, true);
    assert.equal(none[0]!.partitions[0]!.highWatermark, 9);
  });

  it("reads the leader's consumer groups defensively and carries them into the snapshot", () => {
    const groups = parseGroups({ groups: [{ group: 'b', state: 'Stable', generation: 3, members: 2, lag: 7 }, { group: 'a', state: 'Empty' }, { nope: 1 }, 'x'] });
    assert.deepEqual(groups, [
      { group: 'a', state: 'Empty', generation: 0, members: 0, lag: 0 },
      { group: 'b', state: 'Stable', generation: 3, members: 2, lag: 7 },
    ]);
    assert.equal(parseGroups({ error: 'NOT_LEADER' }), null);
    const base = { at: 0, running: true, settings: DEFAULT_SETTINGS, redis: { mode: 'embedded' as const, url: 'redis://x', reachable: true, process: null, problem: null }, brokers: [], obs: null, replicaTopics: new Map(), lastMembership: null, lastEpoch: 0, rates: [] };
    assert.deepEqual(buildSnapshot({ ...base, groups }).groups, groups);
    assert.deepEqual(buildSnapshot({ ...base, groups, groupLag: [{ at: 1, lag: { b: 7 } }] }).groupLag, [{ at: 1, lag: { b: 7 } }]);
    assert.equal(buildSnapshot(base).groups, undefined);
  });

  it('reads record counters defensively: any name with records_in, labels summed, replication left out', () => {
    const metrics = { 'records_in_total{topic="a"}': 3, 'records_in_total{topic="b"}': 4, replicated_records_total: 100, records_out_total: 2, produce_latency_ms: { count: 1 } };
    assert.equal(sumCounter(metrics, 'records_in'), 7);
    assert.equal(sumCounter(metrics, 'records_out'), 2);
    assert.equal(sumCounter({ something_else: 1 }, 'records_in'), null);
    // The coordinator's committed offsets are not produced records; the series still says "counted".
    assert.equal(sumCounter({ 'records_in_total{topic="__consumer_offsets"}': 9, 'records_in_total{topic="a"}': 2 }, 'records_in'), 2);
    assert.equal(sumCounter({ 'records_in_total{topic="__consumer_offsets"}': 9 }, 'records_in'), 0);
  });

  it('turns counters into rates, falling back to its own counts when brokers report none', () => {
    const r = new RateTracker(1000, 10);
    const sample = (at: number, inC: number | null, own: number) =>
      r.sample({ at, leaderId: 'broker-1', recordsIn: new Map([['broker-1', inC]]), recordsOut: new Map(), ownProduced: own, ownConsumed: 0 });
    sample(0, 100, 0);
    sample(2000, 300, 0);
    sample(2500, 400, 0); // too soon: skipped
    sample(4000, null, 50);
    assert.deepEqual(r.history().map((p) => p.producedPerSec), [100, 25]);
  });

  describe('the leader, the in-sync set and whether writes can succeed come from the brokers\' own reports', () => {
    const ids = ['broker-1', 'broker-2', 'broker-3'];
    const input = (o: ReturnType<typeof obs> | null, redisReachable: boolean, lastMembership: SnapshotInput['lastMembership'] = null): SnapshotInput => ({
      at: 0,
      running: true,
      settings: DEFAULT_SETTINGS,
      redis: { mode: 'embedded', url: 'redis://x', reachable: redisReachable, process: null, problem: null },
      brokers: ids.map((id, i) => ({ id, url: `http://127.0.0.1:${5001 + i}`, port: 5001 + i, kafkaPort: 6001 + i, process: { name: id, kind: 'broker', pid: 1, state: 'running', port: 5001 + i, exitCode: null, signal: null, startedAt: 0, restarts: 0 } })),
      obs: o,
      replicaTopics: new Map(),
      lastMembership,
      lastEpoch: 0,
      rates: [],
    });

    it('a leader that claims the lease is the leader, and writes are not blocked', () => {
      const s = buildSnapshot(input(obs(1, { leader: 'broker-2', epoch: 4 }), true));
      assert.deepEqual(s.leader, { id: 'broker-2', url: 'http://127.0.0.1:5002' });
      assert.equal(s.epoch, 4);
      assert.equal(s.writesBlocked, null);
    });

    it('a leader killed (or paused) since the latest poll is not named leader on its last answer: its card says no role, so does the cluster', () => {
      const base = input(obs(1, { leader: 'broker-2', epoch: 4 }), true);
      for (const state of ['exited', 'paused', 'stopping', 'starting'] as const) {
        const brokers = base.brokers.map((b) => (b.id === 'broker-2' ? { ...b, process: { ...b.process, state } } : b));
        const s = buildSnapshot({ ...base, brokers });
        assert.equal(s.leader, null, state);
        assert.equal(s.brokers.find((b) => b.id === 'broker-2')!.role, null, state);
        assert.equal(s.epoch, 4, state);
      }
    });

    it('Redis down: a follower still naming the last lease holder does not make it the leader; writes are blocked, the ISR stays as the leader last reported it', () => {
      const trusted = obs(1, { leader: 'broker-2', epoch: 4 }).cluster;
      const s = buildSnapshot(input(obs(2, { leader: null, epoch: 4, isr: ['broker-1'], redisDown: ids, view: { leader: 'broker-2', epoch: 4 } }), false, trusted));
      assert.equal(s.leader, null);
      assert.equal(s.epoch, 4);
      assert.match(s.writesBlocked ?? '', /Redis is unreachable/);
      assert.deepEqual(s.brokers.map((b) => [b.role, b.inSync]), [['follower', true], ['follower', true], ['follower', true]]);
    });
  });
});

describe('a silent leader\'s lease (issue 11, item 7): counted down from its last /health answer until a new leader', () => {
  const ids = ['broker-1', 'broker-2', 'broker-3'];
  const input = (o: Observation, lastLease: LastLease | null, state: ProcessState = 'exited'): SnapshotInput => ({
    at: o.at,
    running: true,
    settings: DEFAULT_SETTINGS,
    redis: { mode: 'embedded', url: 'redis://x', reachable: true, process: null, problem: null },
    brokers: ids.map((id, i) => ({
      id, url: `http://127.0.0.1:${5001 + i}`, port: 5001 + i, kafkaPort: 6001 + i,
      process: { name: id, kind: 'broker', pid: 1, state: id === 'broker-2' ? state : 'running', port: 5001 + i, exitCode: null, signal: null, startedAt: 0, restarts: 0 },
    })),
    obs: o,
    replicaTopics: new Map(),
    lastMembership: null,
    lastEpoch: 4,
    lastLease,
    rates: [],
  });

  it('says when the leader\'s lease_ms_left was asked for (the /health request\'s send time), so the page counts down from then', () => {
    const leading = obs(1000, { leader: 'broker-2', epoch: 4 });
    leading.health.get('broker-2')!.askedAt = 640;
    const s = buildSnapshot(input(leading, null, 'running'));
    const leader = s.brokers.find((b) => b.id === 'broker-2')!;
    assert.equal(leader.leaseMsLeft, 1500);
    assert.equal(leader.leaseMeasuredAt, 640);
    assert.equal(s.brokers.find((b) => b.id === 'broker-1')!.leaseMeasuredAt, null);
  });

  it('keeps the last claim\'s lease_ms_left and arrival time while nobody else claims the lead; drops it when it does', () => {
    const leading = obs(1000, { leader: 'broker-2', epoch: 4 });
    leading.health.get('broker-2')!.askedAt = 990;
    let last = nextLastLease(null, leading);
    assert.deepEqual(last, { brokerId: 'broker-2', epoch: 4, msLeft: 1500, at: 990 });
    // broker-2 killed: it no longer answers, the others follow.
    const silent = obs(1400, { leader: null, epoch: 4, up: ['broker-1', 'broker-3'] });
    last = nextLastLease(last, silent);
    assert.deepEqual(last, { brokerId: 'broker-2', epoch: 4, msLeft: 1500, at: 990 });
    const s = buildSnapshot(input(silent, last));
    assert.deepEqual(s.brokers.find((b) => b.id === 'broker-2')!.lastLease, { msLeft: 1500, at: 990, epoch: 4 });
    assert.equal(s.brokers.find((b) => b.id === 'broker-2')!.leaseMsLeft, null);
    assert.equal(s.brokers.find((b) => b.id === 'broker-1')!.lastLease, null);
    // A SIGTERM'd leader released its lease: nothing to count down.
    assert.equal(buildSnapshot(input(silent, last, 'stopped')).brokers.find((b) => b.id === 'broker-2')!.lastLease, null);
    // A new leader: the old lease is gone.
    const elected = obs(2600, { leader: 'broker-3', epoch: 5, up: ['broker-1', 'broker-3'] });
    assert.equal(buildSnapshot(input(elected, last)).brokers.find((b) => b.id === 'broker-2')!.lastLease, null);
    assert.equal(nextLastLease(last, elected)!.brokerId, 'broker-3');
  });

  it('while a killed or paused leader\'s lease runs out, writes are blocked because of it, not because "no broker holds the lease"', () => {
    const last: LastLease = { brokerId: 'broker-2', epoch: 4, msLeft: 1500, at: 990 };
    const silent = obs(1400, { leader: null, epoch: 4, up: ['broker-1', 'broker-3'] });
    assert.match(buildSnapshot(input(silent, last, 'exited')).writesBlocked ?? '', /^broker-2 held the leader lease \(epoch 4\) when it last answered and was killed: .*until that lease runs out/);
    assert.match(buildSnapshot(input(silent, last, 'paused')).writesBlocked ?? '', /^broker-2 .* is paused/);
    // Stopped (SIGTERM) released the lease: nobody holds it.
    assert.match(buildSnapshot(input(silent, last, 'stopped')).writesBlocked ?? '', /^No broker holds the leader lease/);
  });

  it('drops it when its holder answers again as a follower', () => {
    const last: LastLease = { brokerId: 'broker-2', epoch: 4, msLeft: 800, at: 0 };
    assert.equal(nextLastLease(last, obs(500, { leader: null, epoch: 4 })), null);
  });
});
