import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { acquireDecision, acquireMode, type EligibilityInput } from '../../../broker-runtime/src/election/decisions.js';
import type { Candidacy } from '../../../broker-runtime/src/election/lease-store.js';

/** acquireDecision: acquireMode's answer, and when it is no, a reason naming what would end it. */

const base: EligibilityInput = { self: 'b1', unclean: false, isrMembers: null, isrMissingForMs: 10_000, recoveryWaitMs: 1_000, candidates: [] };
const candidate = (id: string, lastLogEpoch: number, logEndTotal: number, isr: Candidacy['isr'] = null): Candidacy => ({ id, highestEpoch: lastLogEpoch, lastLogEpoch, logEndTotal, isr });

describe('acquireDecision: why a broker may not take a free lease', () => {
  test('it always agrees with acquireMode, and gives a reason exactly when the answer is no', () => {
    const isr = { epoch: 3, members: ['b1', 'b2'], version: 1 };
    const inputs: EligibilityInput[] = [
      base,
      { ...base, isrMembers: ['b1'] },
      { ...base, isrMembers: ['b2'] },
      { ...base, isrMissingForMs: 0 },
      { ...base, rememberedIsr: isr, candidates: [candidate('b2', 3, 10, isr)] },
      { ...base, rememberedIsr: isr },
      { ...base, unclean: true, isrMembers: ['b2'] },
    ];
    for (const input of inputs) {
      const d = acquireDecision(input);
      assert.equal(d.mode, acquireMode(input));
      assert.equal(d.mode === null, typeof d.why === 'string' && d.why.length > 0);
    }
  });

  test('outside the recorded set: names the set and that a leader must add it back', () => {
    const d = acquireDecision({ ...base, isrMembers: ['b2', 'b3'], recordedIsr: { epoch: 2, members: ['b2', 'b3'], version: 4 } });
    assert.equal(d.mode, null);
    assert.match(d.why!, /\[b2, b3\] \(epoch 2, version 4\)/);
    assert.match(d.why!, /adds it back/);
  });

  test("Redis's set older than the remembered one that leaves this broker out: names both", () => {
    const forgotten = { epoch: 2, members: ['b1', 'b2'], version: 1 };
    const shrunk = { epoch: 2, members: ['b2'], version: 2 };
    const d = acquireDecision({ ...base, isrMembers: forgotten.members, recordedIsr: forgotten, rememberedIsr: shrunk });
    assert.equal(d.mode, null);
    assert.match(d.why!, /\[b1, b2\] \(epoch 2, version 1\), is older than the one this broker saw, \[b2\] \(epoch 2, version 2\)/);
  });

  test('no set in Redis: the wait for candidacies, then who is missing, then who ranks first', () => {
    assert.match(acquireDecision({ ...base, isrMissingForMs: 100 }).why!, /waiting 1000 ms .* every live broker to state its candidacy/);
    const isr = { epoch: 3, members: ['b1', 'b2', 'b3'], version: 0 };
    const waiting = acquireDecision({ ...base, rememberedIsr: isr, candidates: [candidate('b2', 3, 10)] });
    assert.match(waiting.why!, /waiting for b3 of the newest one remembered, \[b1, b2, b3\] \(epoch 3\)/);
    const ranked = acquireDecision({ ...base, rememberedIsr: isr, candidates: [candidate('b1', 3, 5), candidate('b2', 3, 10), candidate('b3', 2, 50)] });
    assert.match(ranked.why!, /b2, also a member of the newest one remembered, .* ranks first/);
    const outside = acquireDecision({ ...base, rememberedIsr: null, candidates: [candidate('b2', 3, 10, { epoch: 3, members: ['b2'], version: 0 })] });
    assert.match(outside.why!, /\[b2\] \(epoch 3\), leaves this broker out/);
  });
});
