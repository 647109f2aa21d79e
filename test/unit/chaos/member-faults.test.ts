import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { YakClient } from '../../../broker-runtime/src/client/index.js';
import { check, countCommits, memberFaultOutcomes, staleCommits } from '../../../chaos/checker.js';
import { DEFAULT_FAULTS } from '../../../chaos/faults.js';
import type { Op } from '../../../chaos/history.js';
import { MemberClient, MemberKilledError } from '../../../chaos/member-client.js';
import { MEMBER_FAULT_NAMES, memberHoldMs } from '../../../chaos/member-faults.js';
import { parseChaosArgs, replayCommand } from '../../../chaos/options.js';
import { Rng } from '../../../testkit/rng.js';

/** A stand-in with one method, counting calls: MemberClient only forwards methods. */
function counter(): { client: YakClient; calls: () => number } {
  let n = 0;
  const fake = { heartbeat: async () => ++n };
  return { client: fake as unknown as YakClient, calls: () => n };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('MemberClient (the nemesis over one group member)', () => {
  it('forwards calls while running', async () => {
    const c = counter();
    const m = new MemberClient();
    await m.wrap(c.client).heartbeat('g', 'm', 1);
    assert.equal(c.calls(), 1);
  });

  it('frozen: calls and processing wait until thawed, then go through', async () => {
    const c = counter();
    const m = new MemberClient();
    m.freeze();
    let processed = false;
    const call = m.wrap(c.client).heartbeat('g', 'm', 1);
    const work = m.held().then(() => (processed = true));
    await settled();
    assert.equal(c.calls(), 0, 'nothing reaches the cluster while frozen');
    assert.equal(processed, false);
    m.thaw();
    await Promise.all([call, work]);
    assert.equal(c.calls(), 1);
    assert.equal(processed, true);
  });

  it('killed: waiting and later calls fail and never reach the cluster', async () => {
    const c = counter();
    const m = new MemberClient();
    m.freeze();
    const waiting = m.wrap(c.client).heartbeat('g', 'm', 1);
    m.kill();
    await assert.rejects(waiting, MemberKilledError);
    await assert.rejects(m.wrap(c.client).heartbeat('g', 'm', 1), MemberKilledError);
    await assert.rejects(m.held(), MemberKilledError);
    m.freeze();
    assert.equal(m.frozen, false, 'a dead member cannot be frozen');
    assert.equal(c.calls(), 0);
  });
});

describe('member faults', () => {
  it('a paused member stays frozen past its session timeout; a killed one at least one timeout', () => {
    const rng = new Rng(7);
    for (let i = 0; i < 200; i++) {
      assert.ok(memberHoldMs('pause-member', 4000, rng) > 4000);
      assert.ok(memberHoldMs('kill-member', 4000, rng) >= 4000);
    }
  });

  it('are in the default set and selectable with --faults', () => {
    for (const f of MEMBER_FAULT_NAMES) assert.ok(DEFAULT_FAULTS.includes(f));
    const o = parseChaosArgs(['--faults', 'kill-member,pause-member,kill-leader']);
    assert.notEqual(o, 'help');
    assert.deepEqual(o !== 'help' && o.faults, ['kill-member', 'pause-member', 'kill-leader']);
  });

  it('--rounds N replaces the duration: the replay command names the rounds, a bad N is refused', () => {
    const o = parseChaosArgs(['--seed', '7', '--faults', 'kill-member,kill-leader', '--rounds', '2']);
    assert.ok(o !== 'help');
    assert.equal(o.rounds, 2);
    assert.equal(replayCommand(o), 'npm run chaos -- --seed 7 --faults kill-member,kill-leader --rounds 2');
    assert.throws(() => parseChaosArgs(['--rounds', '0']), /--rounds needs a positive integer, got 0/);
  });

  it('the checker sees whether the victim\'s partitions moved before the next fault', () => {
    const ops: Op[] = [
      { t: 0, f: 'group-assign', process: 'g1', type: 'info', member: 'A', generation: 1, value: [0, 1] },
      { t: 0, f: 'group-assign', process: 'g2', type: 'info', member: 'B', generation: 1, value: [2] },
      { t: 100, f: 'start', process: 'nemesis', type: 'info', fault: 'pause-member', target: 'g1', value: { memberId: 'A', generation: 1, partitions: [0, 1] } },
      { t: 4200, f: 'group-assign', process: 'g2', type: 'info', member: 'B', generation: 2, value: [0, 1, 2] },
      { t: 8000, f: 'heal', process: 'nemesis', type: 'info', fault: 'pause-member', target: 'g1' },
      { t: 9000, f: 'start', process: 'nemesis', type: 'info', fault: 'kill-member', target: 'g2', value: { memberId: 'B', generation: 3, partitions: [2] } },
      // Only the victim itself, or an older generation: not a move.
      { t: 9500, f: 'group-assign', process: 'g2', type: 'info', member: 'B', generation: 4, value: [2] },
      { t: 9600, f: 'group-assign', process: 'g1', type: 'info', member: 'C', generation: 3, value: [2] },
    ];
    assert.deepEqual(memberFaultOutcomes(ops), [
      { fault: 'pause-member', member: 'g1', t: 100, movedAfterMs: 4100 },
      { fault: 'kill-member', member: 'g2', t: 9000, movedAfterMs: null },
    ]);
  });

  it('a zombie\'s commit accepted after a later generation was handed out is a group-stale-commit; refused ones are counted', () => {
    const ops: Op[] = [
      { t: 0, f: 'group-assign', process: 'g1', type: 'info', member: 'A', generation: 1, value: [0] },
      { t: 10, f: 'group-commit', process: 'g1', type: 'ok', t0: 5, member: 'A', generation: 1, value: [[0, 3]] },
      { t: 100, f: 'group-assign', process: 'g2', type: 'info', member: 'B', generation: 2, value: [0] },
      // Sent before generation 2 was seen: its acceptance is no proof of anything.
      { t: 120, f: 'group-commit', process: 'g1', type: 'ok', t0: 90, member: 'A', generation: 1, value: [[0, 4]] },
      { t: 210, f: 'group-commit', process: 'g1', type: 'fail', t0: 200, member: 'A', generation: 1, value: [[0, 5]], error: 'UNKNOWN_MEMBER_ID' },
      { t: 310, f: 'group-commit', process: 'g1', type: 'ok', t0: 300, member: 'A', generation: 1, value: [[0, 6]] },
    ];
    assert.deepEqual(staleCommits(ops).map((o) => o.t0), [300]);
    assert.deepEqual(countCommits(ops), { accepted: 3, refused: { UNKNOWN_MEMBER_ID: 1 }, unknown: 0 });
    assert.equal(check(ops).violations['group-stale-commit'], 1);
  });
});
