import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { epochAt } from '../../../broker-runtime/src/log/leader-epoch-cache.js';
import { continuesLog, decideFollowerLogStart, resumeAfterMismatch, sendFrom } from '../../../broker-runtime/src/replication/log-start.js';
import { decodeFrame, encodeFrame, type ReplicateHeader } from '../../../broker-runtime/src/replication/wire.js';

const leaderEpochs = [
  { epoch: 1, startOffset: 0 },
  { epoch: 3, startOffset: 400 },
  { epoch: 5, startOffset: 900 },
];

describe('log start offset across replicas (Kafka: followers take the leader\'s log start)', () => {
  it('a follower whose log ends below the leader\'s log start is sent from the log start, never from below it', () => {
    const r = resumeAfterMismatch({ epochs: leaderEpochs, logEnd: 1000, logStart: 500 }, { epochs: [{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 400 }], logEnd: 450, logStart: 0 });
    assert.deepEqual(r, { nextOffset: 500, truncateTo: undefined });
  });

  it('divergence below the leader\'s log start is ignored; the logs are compared from there on', () => {
    // The follower's epoch 2 at 100..499 was never the leader's, but all of that is below 500.
    const follower = [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 100 }, { epoch: 3, startOffset: 500 }];
    assert.deepEqual(resumeAfterMismatch({ epochs: leaderEpochs, logEnd: 1000, logStart: 500 }, { epochs: follower, logEnd: 700, logStart: 0 }), { nextOffset: 700, truncateTo: undefined });
    // Diverging at the leader's log start: cut there (the follower then restarts at it).
    const other = [{ epoch: 1, startOffset: 0 }, { epoch: 4, startOffset: 450 }];
    assert.deepEqual(resumeAfterMismatch({ epochs: leaderEpochs, logEnd: 1000, logStart: 500 }, { epochs: other, logEnd: 700, logStart: 0 }), { nextOffset: 500, truncateTo: 500 });
  });

  it('a follower that restarted at the log start (no epochs below it) is not seen as divergent at 0', () => {
    const restarted = [{ epoch: 3, startOffset: 500 }];
    assert.deepEqual(resumeAfterMismatch({ epochs: leaderEpochs, logEnd: 1000, logStart: 500 }, { epochs: restarted, logEnd: 800, logStart: 500 }), { nextOffset: 800, truncateTo: undefined });
  });

  it('without retention the resume point is the divergence point, as before', () => {
    const follower = [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 300 }];
    assert.deepEqual(resumeAfterMismatch({ epochs: leaderEpochs, logEnd: 1000, logStart: 0 }, { epochs: follower, logEnd: 350, logStart: 0 }), { nextOffset: 300, truncateTo: 300 });
  });

  it('the leader never sends from below its log start', () => {
    assert.equal(sendFrom(120, 500), 500);
    assert.equal(sendFrom(700, 500), 700);
  });

  it('follower: restart empty at the leader\'s log start only when its log ends at or below it', () => {
    assert.deepEqual(decideFollowerLogStart({ logStart: 0, logEnd: 450, highWatermark: 450 }, 500), { action: 'restart', at: 500 });
    assert.deepEqual(decideFollowerLogStart({ logStart: 0, logEnd: 500, highWatermark: 500 }, 500), { action: 'restart', at: 500 });
    assert.deepEqual(decideFollowerLogStart({ logStart: 0, logEnd: 800, highWatermark: 800 }, 500), { action: 'advance', to: 500 });
  });

  it('follower: never raises its log start past its own high-water mark, never lowers it, ignores frames without one', () => {
    assert.deepEqual(decideFollowerLogStart({ logStart: 0, logEnd: 800, highWatermark: 300 }, 500), { action: 'advance', to: 300 });
    assert.deepEqual(decideFollowerLogStart({ logStart: 600, logEnd: 800, highWatermark: 800 }, 500), { action: 'keep' });
    assert.deepEqual(decideFollowerLogStart({ logStart: 0, logEnd: 800, highWatermark: 800 }, undefined), { action: 'keep' });
  });

  it('an empty log at its start offset continues anything sent from there; otherwise the epochs must match', () => {
    const at = (entries: { epoch: number; startOffset: number }[]) => (o: number) => epochAt(entries, o);
    assert.equal(continuesLog({ logStart: 500, logEnd: 500, epochAt: at([]) }, 500, 3), true);
    assert.equal(continuesLog({ logStart: 0, logEnd: 500, epochAt: at([{ epoch: 3, startOffset: 0 }]) }, 500, 3), true);
    assert.equal(continuesLog({ logStart: 0, logEnd: 500, epochAt: at([{ epoch: 2, startOffset: 0 }]) }, 500, 3), false);
    assert.equal(continuesLog({ logStart: 500, logEnd: 450, epochAt: at([]) }, 500, 3), false);
  });

  it('the frame carries logStart, validated like every other field', () => {
    const header: ReplicateHeader = {
      epoch: 2,
      leader: { id: 'b1', url: 'http://x' },
      metaVersion: 'v',
      topics: [{ name: 't', partitions: 1, config: { 'retention.ms': 1000 } }],
      parts: [{ topic: 't', partition: 0, prevOffset: 500, prevEpoch: 3, hwm: 600, length: 0, logStart: 500 }],
    };
    assert.equal(decodeFrame(encodeFrame(header, [Buffer.alloc(0)])).header.parts[0]!.logStart, 500);
    const bad = (patch: Record<string, unknown>) => encodeFrame({ ...header, parts: [{ ...header.parts[0]!, ...patch }] } as ReplicateHeader, [Buffer.alloc(0)]);
    assert.throws(() => decodeFrame(bad({ logStart: -1 })), /logStart/);
    assert.throws(() => decodeFrame(bad({ logStart: '5' })), /logStart/);
    assert.throws(() => decodeFrame(bad({ logStart: 700 })), /logStart/);
    const badTopic = encodeFrame({ ...header, topics: [{ name: 't', partitions: 1, config: { 'retention.ms': 'x' } }] } as unknown as ReplicateHeader, [Buffer.alloc(0)]);
    assert.throws(() => decodeFrame(badTopic), /topic config/);
  });
});
