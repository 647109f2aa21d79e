import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClusterWatch } from '../../../src/main/supervisor/cluster-watch.js';
import { obs } from './observations.js';

const kinds = (events: { kind: string; brokerId?: string; epoch?: number }[]) => events.map((e) => `${e.kind}:${e.brokerId}@${e.epoch}`);

describe('ClusterWatch turns observations into cluster events', () => {
  it('reports the first leader with its epoch, and nothing while it stays', () => {
    const w = new ClusterWatch();
    assert.deepEqual(kinds(w.update(obs(1, { leader: 'broker-1', epoch: 1 }))), ['leader-elected:broker-1@1']);
    assert.deepEqual(w.update(obs(2, { leader: 'broker-1', epoch: 1 })), []);
  });

  it('reports a lost lease, then the new leader with a higher epoch', () => {
    const w = new ClusterWatch();
    const all = ['broker-1', 'broker-2', 'broker-3'];
    w.update(obs(1, { leader: 'broker-1', epoch: 1 }));
    assert.deepEqual(kinds(w.update(obs(2, { leader: null, epoch: 1, up: ['broker-2', 'broker-3'], isr: all }))), ['lease-lost:broker-1@1']);
    assert.deepEqual(kinds(w.update(obs(3, { leader: 'broker-2', epoch: 2, up: ['broker-2', 'broker-3'], isr: all }))), ['leader-elected:broker-2@2']);
  });

  it('reports a takeover seen in one round as lease lost then leader elected', () => {
    const w = new ClusterWatch();
    w.update(obs(1, { leader: 'broker-1', epoch: 4 }));
    assert.deepEqual(kinds(w.update(obs(2, { leader: 'broker-3', epoch: 5 }))), ['lease-lost:broker-1@4', 'leader-elected:broker-3@5']);
  });

  it('neither invents nor repeats an election when a round sees nothing, or an older epoch', () => {
    const w = new ClusterWatch();
    w.update(obs(1, { leader: 'broker-1', epoch: 3 }));
    assert.deepEqual(w.update(obs(2, { noView: true })), []);
    assert.deepEqual(w.update(obs(3, { leader: 'broker-1', epoch: 3 })), []);
    assert.deepEqual(w.update(obs(4, { leader: 'broker-2', epoch: 2 })), [], 'a lagging broker still naming an old epoch is not news');
  });

  it('reports ISR shrink and expand per broker', () => {
    const w = new ClusterWatch();
    w.update(obs(1, { leader: 'broker-1', isr: ['broker-1', 'broker-2', 'broker-3'] }));
    assert.deepEqual(kinds(w.update(obs(2, { leader: 'broker-1', isr: ['broker-1', 'broker-2'] }))), ['isr-shrink:broker-3@1']);
    assert.deepEqual(kinds(w.update(obs(3, { leader: 'broker-1', isr: ['broker-1', 'broker-2', 'broker-3'] }))), ['isr-expand:broker-3@1']);
  });
});
