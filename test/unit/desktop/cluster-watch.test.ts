import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClusterWatch } from '../../../src/main/supervisor/watch/cluster-watch.js';
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
    assert.deepEqual(w.update(obs(2, { noView: true, up: [] })), []);
    assert.deepEqual(w.update(obs(3, { leader: 'broker-1', epoch: 3 })), []);
    assert.deepEqual(w.update(obs(4, { leader: 'broker-1', epoch: 3, view: { leader: 'broker-2', epoch: 2 } })), [], 'a lagging broker still naming an old epoch is not news');
    assert.deepEqual(
      w.update(obs(5, { leader: 'broker-1', epoch: 3, claims: { 'broker-2': { role: 'leader', epoch: 2 } } })),
      [],
      'nor is a broker that still claims an older epoch',
    );
  });

  it('reports ISR shrink and expand per broker', () => {
    const w = new ClusterWatch();
    w.update(obs(1, { leader: 'broker-1', isr: ['broker-1', 'broker-2', 'broker-3'] }));
    assert.deepEqual(kinds(w.update(obs(2, { leader: 'broker-1', isr: ['broker-1', 'broker-2'] }))), ['isr-shrink:broker-3@1']);
    assert.deepEqual(kinds(w.update(obs(3, { leader: 'broker-1', isr: ['broker-1', 'broker-2', 'broker-3'] }))), ['isr-expand:broker-3@1']);
  });

  // Recorded from a desktop cluster (issue 11): after SIGKILL of broker-1, leader of epoch 1, the
  // round asked broker-2 (no broker claimed the lead yet), whose /metadata/cluster already said
  // epoch 2 but still named broker-1, the last lease holder it had seen. The old inference logged
  // "broker-1 is the leader (epoch 2)" and 0.46 s later "broker-3 is the leader (epoch 2)".
  it('after a SIGKILL of the leader, announces exactly one leader for the new epoch: the broker that claims it', () => {
    const w = new ClusterWatch();
    const survivors = ['broker-2', 'broker-3'];
    const all = ['broker-1', 'broker-2', 'broker-3'];
    const events = [
      ...w.update(obs(1000, { leader: 'broker-1', epoch: 1 })),
      ...w.update(obs(1400, { leader: null, epoch: 1, up: survivors, isr: all, view: { leader: 'broker-1', epoch: 1 } })),
      ...w.update(obs(3100, { leader: null, up: survivors, isr: all, claims: { 'broker-2': { role: 'follower', epoch: 2 }, 'broker-3': { role: 'follower', epoch: 1 } }, view: { leader: 'broker-1', epoch: 2 } })),
      ...w.update(obs(3560, { leader: 'broker-3', epoch: 2, up: survivors, isr: survivors })),
      ...w.update(obs(3960, { leader: 'broker-3', epoch: 2, up: survivors, isr: survivors })),
    ];
    assert.deepEqual(kinds(events), ['leader-elected:broker-1@1', 'lease-lost:broker-1@1', 'leader-elected:broker-3@2', 'isr-shrink:broker-1@2']);
    const leaders = new Map<number, Set<string>>();
    for (const e of events.filter((x) => x.kind === 'leader-elected')) leaders.set(e.epoch!, (leaders.get(e.epoch!) ?? new Set()).add(e.brokerId!));
    for (const [epoch, ids] of leaders) assert.equal(ids.size, 1, `epoch ${epoch} has one leader`);
  });

  it('never announces a second leader for an epoch already announced', () => {
    const w = new ClusterWatch();
    w.update(obs(1, { leader: 'broker-1', epoch: 2 }));
    assert.deepEqual(kinds(w.update(obs(2, { leader: 'broker-3', epoch: 2 }))), ['lease-lost:broker-1@2']);
    assert.deepEqual(w.update(obs(3, { leader: 'broker-1', epoch: 2 })), []);
  });

  // Recorded with Redis killed: the leader steps down when it cannot renew; each round's view then
  // comes from a follower that lists only itself (it cannot read the registrations).
  it('while Redis is down: reports the leader stepping down once, and no ISR changes from followers\' partial views', () => {
    const w = new ClusterWatch();
    const all = ['broker-1', 'broker-2', 'broker-3'];
    w.update(obs(1, { leader: 'broker-2', epoch: 5, isr: all }));
    const down = all;
    const events = [
      // Recorded 50 ms after the kill: the leader has not noticed yet, but cannot list the registrations.
      ...w.update(obs(2, { leader: 'broker-2', epoch: 5, isr: all, listed: ['broker-2'] })),
      ...w.update(obs(2, { leader: 'broker-2', epoch: 5, isr: ['broker-2'], redisDown: down })),
      ...w.update(obs(3, { leader: null, epoch: 5, isr: ['broker-1'], redisDown: down, view: { leader: 'broker-2', epoch: 5 } })),
      ...w.update(obs(4, { leader: null, epoch: 5, isr: ['broker-3'], redisDown: down, view: { leader: 'broker-2', epoch: 5 } })),
      ...w.update(obs(5, { leader: null, epoch: 5, isr: [], redisDown: down, view: { leader: 'broker-2', epoch: 5 } })),
    ];
    assert.deepEqual(kinds(events), ['lease-lost:broker-2@5']);
    // Redis back, broker-2 leads again under a new epoch with the same in-sync set: one election, no ISR noise.
    assert.deepEqual(kinds(w.update(obs(6, { leader: 'broker-2', epoch: 6, isr: all }))), ['leader-elected:broker-2@6']);
  });
});
