import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { check, longestGap } from '../../../chaos/checker.js';
import type { Op } from '../../../chaos/history.js';

/** A tiny history: three records written, acknowledged, and read back on two replicas. */
function base(): Op[] {
  return [
    { t: 0, f: 'produce', process: 'w1', type: 'invoke', value: [{ k: 'w1:0', p: 0 }, { k: 'w1:1', p: 0 }] },
    { t: 5, f: 'produce', process: 'w1', type: 'ok', value: [{ k: 'w1:0', p: 0, o: 0 }, { k: 'w1:1', p: 0, o: 1 }] },
    { t: 6, f: 'produce', process: 'w2', type: 'invoke', value: [{ k: 'w2:0', p: 0 }] },
    { t: 9, f: 'produce', process: 'w2', type: 'ok', value: [{ k: 'w2:0', p: 0, o: 2 }] },
    { t: 10, f: 'read', process: 'r1', type: 'ok', t0: 8, p: 0, from: 0, broker: 'b1', hwm: 2, value: [[0, 'w1:0'], [1, 'w1:1']] },
    { t: 20, f: 'final-read', process: 'final', type: 'ok', broker: 'b1', p: 0, hwm: 3, leo: 3, value: ['w1:0', 'w1:1', 'w2:0'] },
    { t: 21, f: 'final-read', process: 'final', type: 'ok', broker: 'b2', p: 0, hwm: 3, leo: 3, value: ['w1:0', 'w1:1', 'w2:0'] },
  ];
}

function finalOf(ops: Op[], broker: string): string[] {
  const op = ops.find((o) => o.f === 'final-read' && o.broker === broker);
  if (!op || op.f !== 'final-read') throw new Error('no final read');
  return op.value;
}

describe('chaos checker', () => {
  it('a clean history passes with every count right', () => {
    const r = check(base());
    assert.equal(r.safe, true);
    assert.deepEqual(r.produce, { ok: 2, fail: 0, info: 0, pending: 0 });
    assert.deepEqual(r.records, { acked: 3, failed: 0, indeterminate: 0, stored: 3 });
    assert.deepEqual(r.liveness, []);
    assert.equal(r.replicas[0]!.brokers.length, 2);
  });

  it('an acknowledged record missing from one replica is lost', () => {
    const ops = base();
    finalOf(ops, 'b2').pop();
    const r = check(ops);
    assert.equal(r.violations.lost, 1);
    assert.match(r.examples[0]!.detail, /w2:0 acknowledged at p0@2; b2 has nothing/);
  });

  it('replicas whose prefixes differ diverge, and an offset holding two records is a conflict', () => {
    const ops = base();
    const b2 = finalOf(ops, 'b2');
    [b2[0], b2[1]] = [b2[1]!, b2[0]!];
    const r = check(ops);
    assert.equal(r.violations['replica-divergence'], 1);
    assert.equal(r.violations.conflict, 2);
    assert.equal(r.violations.lost, 2);
  });

  it('a refused (4xx) write that shows up is failed-visible; an info one is not', () => {
    const ops = base();
    ops.push({ t: 11, f: 'produce', process: 'w3', type: 'invoke', value: [{ k: 'w3:0', p: 0 }, { k: 'w3:1', p: 0 }] });
    ops.push({ t: 12, f: 'produce', process: 'w3', type: 'fail', value: [{ k: 'w3:0', p: 0 }, { k: 'w3:1', p: 0 }], error: '421 NOT_LEADER' });
    ops.push({ t: 13, f: 'produce', process: 'w4', type: 'invoke', value: [{ k: 'w4:0', p: 0 }] });
    ops.push({ t: 14, f: 'produce', process: 'w4', type: 'info', value: [{ k: 'w4:0', p: 0 }], error: 'timeout' });
    for (const b of ['b1', 'b2']) finalOf(ops, b).push('w3:0', 'w4:0');
    const r = check(ops);
    assert.equal(r.violations['failed-visible'], 1);
    assert.match(r.examples[0]!.detail, /w3:0 was refused \(421 NOT_LEADER\)/);
    assert.equal(r.safe, false);
  });

  it('duplicates: counted apart for retrying clients, a violation for records sent once', () => {
    const ops = base();
    ops.push({ t: 11, f: 'produce', process: 'y1', type: 'invoke', value: [{ k: 'y1:0', p: 0 }] });
    ops.push({ t: 12, f: 'produce', process: 'y1', type: 'ok', value: [{ k: 'y1:0', p: 0, o: 3 }] });
    for (const b of ['b1', 'b2']) finalOf(ops, b).push('y1:0', 'y1:0');
    assert.equal(check(ops).duplicates.fromRetries, 1);
    assert.equal(check(ops).safe, true);
    for (const b of ['b1', 'b2']) finalOf(ops, b).push('w1:0');
    const r = check(ops);
    assert.equal(r.duplicates.unexpected, 1);
    assert.equal(r.violations['unexpected-duplicate'], 1);
  });

  it('phantoms, non-monotonic reads, gaps and crashes are violations', () => {
    const ops = base();
    ops.push({ t: 12, f: 'read', process: 'r1', type: 'ok', t0: 11, p: 0, from: 2, broker: 'b2', hwm: 3, value: [[3, 'w2:0']] });
    ops.push({ t: 13, f: 'start', process: 'nemesis', type: 'info', fault: 'kill-leader', target: 'b1' });
    ops.push({ t: 14, f: 'crash', process: 'nemesis', type: 'info', target: 'b3', value: { exitCode: 1, output: 'boom' } });
    finalOf(ops, 'b1').push('ghost:1', '@7:w2:0');
    const r = check(ops);
    assert.equal(r.violations.phantom, 1);
    assert.ok(r.violations['non-monotonic-read'] >= 1);
    assert.equal(r.violations['not-contiguous'], 1);
    assert.equal(r.violations.crash, 1);
  });

  it('unavailability is the longest stretch without an acknowledgement after each fault', () => {
    assert.equal(longestGap([1, 2, 10, 11], 0, 12), 8);
    assert.equal(longestGap([], 5, 9), 4);
    const ops = base();
    ops.push({ t: 30, f: 'start', process: 'nemesis', type: 'info', fault: 'kill-leader', target: 'b1' });
    ops.push({ t: 31, f: 'produce', process: 'w1', type: 'invoke', value: [{ k: 'w1:9', p: 1 }] });
    ops.push({ t: 530, f: 'produce', process: 'w1', type: 'ok', value: [{ k: 'w1:9', p: 1, o: 0 }] });
    const r = check(ops);
    assert.equal(r.unavailability['kill-leader']!.max, 500);
    assert.equal(r.faults['kill-leader'], 1);
  });

  it('the consumer group: every acknowledged record processed once it caught up, offsets never backwards, one holder per partition and generation', () => {
    const group = (): Op[] => [
      ...base(),
      { t: 11, f: 'group-assign', process: 'g1', type: 'info', member: 'm1', generation: 1, value: [0] },
      { t: 12, f: 'group-process', process: 'g1', type: 'ok', generation: 1, p: 0, value: [[0, 'w1:0'], [1, 'w1:1'], [2, 'w2:0']] },
      { t: 13, f: 'group-offsets', process: 'group-observer', type: 'ok', value: [[0, 3]] },
      { t: 22, f: 'run', process: 'harness', type: 'info', value: { groupDrained: true } },
    ];
    const clean = check(group());
    assert.equal(clean.safe, true);
    assert.deepEqual(clean.group, { members: 1, generations: 1, processed: 3, reprocessed: 0, offsetObservations: 1, drained: true, memberFaults: [], commits: { accepted: 0, refused: {}, unknown: 0 } });

    const bad = group();
    (bad[base().length + 1] as { value: [number, string][] }).value.pop();
    bad.push({ t: 14, f: 'group-offsets', process: 'group-observer', type: 'ok', value: [[0, 2]] });
    bad.push({ t: 15, f: 'group-assign', process: 'g2', type: 'info', member: 'm2', generation: 1, value: [0] });
    const r = check(bad);
    assert.equal(r.violations['group-unprocessed'], 1);
    assert.equal(r.violations['group-offset-backwards'], 1);
    assert.equal(r.violations['group-double-assign'], 1);

    const stuck = group();
    (stuck[stuck.length - 1] as { value: Record<string, unknown> }).value = { groupDrained: false };
    assert.match(check(stuck).liveness.join(), /did not process every partition/);
  });
});
