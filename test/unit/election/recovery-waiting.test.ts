import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { recoveryWaitingFor } from '../../../broker-runtime/src/election/decisions.js';

const cand = (id: string, members?: string[], epoch = 1) => ({ id, highestEpoch: epoch, lastLogEpoch: epoch, logEndTotal: 0, isr: members ? { epoch, members, version: 0 } : null });

describe('what a leaderless recovery waits for', () => {
  test('the members of the newest remembered in-sync set with no candidacy here', () => {
    assert.deepEqual(recoveryWaitingFor('w2', { epoch: 1, members: ['w1', 'w2'] }, [cand('w2', ['w1', 'w2'])]), ['w1']);
    assert.deepEqual(recoveryWaitingFor('c', { epoch: 1, members: ['a', 'b', 'c'] }, []), ['a', 'b']);
  });

  test('nothing when every member is a candidate, or no set is remembered anywhere (a new cluster)', () => {
    assert.equal(recoveryWaitingFor('w2', { epoch: 1, members: ['w1', 'w2'] }, [cand('w1'), cand('w2')]), null);
    assert.equal(recoveryWaitingFor('n', null, [cand('m')]), null);
  });

  test('a newer set stated by a candidate, or kept in the stated history, decides', () => {
    assert.deepEqual(recoveryWaitingFor('a', { epoch: 1, members: ['a'] }, [cand('b', ['a', 'b', 'c'], 2)]), ['c']);
    assert.deepEqual(recoveryWaitingFor('a', { epoch: 1, members: ['a'] }, [], { epoch: 3, members: ['a', 'd'], version: 0 }), ['d']);
  });
});
