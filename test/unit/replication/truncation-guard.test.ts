import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decideTruncation, epochsFrom, leaderHoldsCommitted } from '../../../broker-runtime/src/replication/divergence.js';
import { decodeFrame, encodeFrame, type ReplicateHeader } from '../../../broker-runtime/src/replication/wire.js';

/**
 * Invariant (issue 10, item 1): a leader never makes a follower cut below the follower's own
 * high-water mark unless it proves it holds those records — its log reaches that far and its
 * record at hwm - 1 is from the same epoch as the follower's (log matching). A leader that lost
 * committed records and wrote new ones at their offsets did so in a newer epoch and cannot.
 */
describe('a follower cuts below its high-water mark only on proof', () => {
  // Follower: epoch 1 at 0..39, epoch 2 at 40..99; committed up to 90.
  const follower = { epochs: [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 40 }], logEnd: 100, highWatermark: 90 };

  test('the issue-10 leader (lost offsets 50.., wrote them again in epoch 3) is refused', () => {
    const leaderEpochs = [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 40 }, { epoch: 3, startOffset: 50 }];
    const d = decideTruncation(follower, { truncateTo: 50, truncateEpoch: 3, leaderEpoch: 3, leaderEnd: 120, leaderEpochs: epochsFrom(leaderEpochs, 50) });
    assert.equal(d.action, 'refuse');
    assert.match((d as { reason: string }).reason, /below our high-water mark 90/);
  });

  test('a leader whose log ends below the high-water mark is refused, whatever its epochs', () => {
    const d = decideTruncation(follower, { truncateTo: 50, truncateEpoch: -1, leaderEpoch: 3, leaderEnd: 50, leaderEpochs: [{ epoch: 2, startOffset: 40 }] });
    assert.equal(d.action, 'refuse');
  });

  test('a leader that sends no proof (an older broker) may not cut below the high-water mark', () => {
    assert.equal(decideTruncation(follower, { truncateTo: 50, truncateEpoch: 3, leaderEpoch: 3 }).action, 'refuse');
  });

  test('a divergent tail above the high-water mark is cut as before, proof or not', () => {
    assert.deepEqual(decideTruncation(follower, { truncateTo: 95, truncateEpoch: 3, leaderEpoch: 3 }), { action: 'cut', to: 95 });
    assert.deepEqual(decideTruncation(follower, { truncateTo: 90, truncateEpoch: -1, leaderEpoch: 3 }), { action: 'cut', to: 90 });
  });

  test('a leader holding the record at hwm - 1 from the same epoch may cut below it (the same records come back)', () => {
    // Caches that disagree below the high-water mark over records that are the same.
    const leaderEpochs = [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 30 }];
    assert.equal(leaderHoldsCommitted(follower.epochs, 90, { leaderEnd: 95, leaderEpochs }), true);
    assert.deepEqual(decideTruncation(follower, { truncateTo: 30, truncateEpoch: 2, leaderEpoch: 4, leaderEnd: 95, leaderEpochs: epochsFrom(leaderEpochs, 30) }), { action: 'cut', to: 30 });
  });

  test('no cut without a conflict, or past the log end', () => {
    assert.deepEqual(decideTruncation(follower, { truncateTo: 50, truncateEpoch: 2, leaderEpoch: 3 }), { action: 'keep' }, 'same epoch there: a late retry');
    assert.deepEqual(decideTruncation(follower, { truncateTo: 100, truncateEpoch: -1, leaderEpoch: 3 }), { action: 'keep' });
    assert.deepEqual(decideTruncation(follower, { leaderEpoch: 3 }), { action: 'keep' });
  });

  test('epochsFrom sends the leader cache from the entry covering the offset on', () => {
    const entries = [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 40 }, { epoch: 5, startOffset: 70 }];
    assert.deepEqual(epochsFrom(entries, 50), entries.slice(1));
    assert.deepEqual(epochsFrom(entries, 70), entries.slice(2));
    assert.deepEqual(epochsFrom(entries, 0), entries);
  });

  test('the proof fields travel in a frame, and malformed ones refuse the frame', () => {
    const part = { topic: 't', partition: 0, prevOffset: 50, prevEpoch: 2, hwm: 50, length: 0, truncateTo: 50, truncateEpoch: 3, leaderEnd: 60, leaderEpochs: [{ epoch: 3, startOffset: 50 }] };
    const header: ReplicateHeader = { epoch: 3, leader: { id: 'b1', url: 'http://x' }, metaVersion: '', parts: [part] };
    assert.deepEqual(decodeFrame(encodeFrame(header, [Buffer.alloc(0)])).header.parts[0], part);
    const bad = (p: object) => () => decodeFrame(encodeFrame({ ...header, parts: [{ ...part, ...p }] } as ReplicateHeader, [Buffer.alloc(0)]));
    assert.throws(bad({ leaderEnd: -1 }), /leaderEnd/);
    assert.throws(bad({ leaderEpochs: [{ epoch: 3, startOffset: 50 }, { epoch: 2, startOffset: 60 }] }), /leaderEpochs/);
    assert.throws(bad({ leaderEpochs: 'x' }), /leaderEpochs/);
  });
});
