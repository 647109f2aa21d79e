import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sumCounter } from '../../../src/main/supervisor/observation.js';
import { RateTracker } from '../../../src/main/supervisor/rates.js';
import { buildTopics } from '../../../src/main/supervisor/snapshot.js';

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

  it('reads record counters defensively: any name with records_in, labels summed, replication left out', () => {
    const metrics = { 'records_in_total{topic="a"}': 3, 'records_in_total{topic="b"}': 4, replicated_records_total: 100, records_out_total: 2, produce_latency_ms: { count: 1 } };
    assert.equal(sumCounter(metrics, 'records_in'), 7);
    assert.equal(sumCounter(metrics, 'records_out'), 2);
    assert.equal(sumCounter({ something_else: 1 }, 'records_in'), null);
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
});
