import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RefusalLog } from '../../../broker-runtime/src/election/refusal-log.js';
import type { Logger, LogLevel } from '../../../broker-runtime/src/logger.js';
import { LEASE_MS, ManualTime, SpecRedis, specBroker } from './elector-harness.js';

/** A logger that keeps every line at info and above (what an operator sees by default). */
function recorder(): { log: Logger; lines: { level: LogLevel; line: string }[] } {
  const lines: { level: LogLevel; line: string }[] = [];
  return { lines, log: (level, line) => void (level !== 'debug' && lines.push({ level, line })) };
}

const refusals = <T extends { line: string }>(lines: T[]): T[] => lines.filter((l) => l.line.startsWith('not taking the lease') || l.line.startsWith('did not take the lease'));

describe('refusal log: why a broker does not take a free lease, told once per change of reason', () => {
  test('the same reason is told once, a new reason at once, and a reason that comes back again', () => {
    const { log, lines } = recorder();
    const r = new RefusalLog(log, LEASE_MS);
    for (let i = 0; i < 50; i++) r.refuse('not taking the lease: A');
    r.refuse('not taking the lease: B', 'warn');
    r.refuse('not taking the lease: B', 'warn');
    r.refuse('not taking the lease: A');
    assert.deepEqual(lines, [
      { level: 'info', line: 'not taking the lease: A' },
      { level: 'warn', line: 'not taking the lease: B' },
      { level: 'info', line: 'not taking the lease: A' },
    ]);
  });

  test('a run of refusals ends when this broker wins, or when another holds the lease for a whole lease period', () => {
    const { log, lines } = recorder();
    const r = new RefusalLog(log, LEASE_MS);
    r.refuse('not taking the lease: A');
    r.won();
    r.refuse('not taking the lease: A');
    assert.equal(lines.length, 2, 'told again after this broker led');
    // A lease taken and given back at once (no Redis replica acknowledged it) does not end the run.
    r.leaseHeld('b2@5', 0);
    r.leaseHeld('b2@5', LEASE_MS / 2);
    r.leaseHeld('b3@6', LEASE_MS);
    r.refuse('not taking the lease: A');
    assert.equal(lines.length, 2, 'no lease was held for a whole period');
    // A leader renewing its lease does.
    r.leaseHeld('b3@6', 2 * LEASE_MS);
    r.refuse('not taking the lease: A');
    assert.equal(lines.length, 3, 'told again once a leader had held the lease for a lease period');
  });
});

describe('election: a broker that does not take a free lease says why at info, once per reason', () => {
  test('outside the recorded in-sync set: one line over 20 leases of polling, naming the set and what would end it', async () => {
    const time = new ManualTime();
    const redis = new SpecRedis(time);
    redis.recordIsr({ epoch: 4, members: ['b2', 'b3'], version: 7 });
    const { log, lines } = recorder();
    const b1 = specBroker(redis, 'b1', { log });
    await time.advance(20 * LEASE_MS);
    assert.equal(b1.elections.length, 0);
    const told = refusals(lines);
    assert.equal(told.length, 1, told.map((l) => l.line).join('\n'));
    assert.equal(told[0]!.level, 'info');
    assert.match(told[0]!.line, /not in the in-sync set recorded in Redis, \[b2, b3\] \(epoch 4, version 7\)/);
    assert.match(told[0]!.line, /adds it back/);
  });

  test('an unclean partition: told once; when it is lifted and another reason holds, that one is told', async () => {
    const time = new ManualTime();
    const redis = new SpecRedis(time);
    redis.recordIsr({ epoch: 2, members: ['b1', 'b2'], version: 0 });
    const { log, lines } = recorder();
    let unclean: string | null = 'bitrot/0 is unclean';
    const b1 = specBroker(redis, 'b1', { log, whyNotLead: () => unclean });
    await time.advance(10 * LEASE_MS);
    assert.equal(b1.elections.length, 0);
    assert.deepEqual(refusals(lines).map((l) => l.line), ['not taking the lease: bitrot/0 is unclean']);
    // The mark is lifted while the in-sync set changes without b1 (a leader left it out meanwhile).
    redis.recordIsr({ epoch: 3, members: ['b2'], version: 0 });
    unclean = null;
    await time.advance(10 * LEASE_MS);
    const told = refusals(lines).map((l) => l.line);
    assert.equal(told.length, 2, told.join('\n'));
    assert.match(told[1]!, /not in the in-sync set recorded in Redis, \[b2\]/);
  });

  test('the same reason is told again after another broker led for a while and left', async () => {
    const time = new ManualTime();
    const redis = new SpecRedis(time);
    redis.recordIsr({ epoch: 2, members: ['b1', 'b2'], version: 0 });
    const { log, lines } = recorder();
    const b1 = specBroker(redis, 'b1', { log, whyNotLead: () => 'a partition is unclean' });
    await time.advance(5 * LEASE_MS);
    const b2 = specBroker(redis, 'b2');
    await time.advance(5 * LEASE_MS);
    assert.equal(b2.elections.length, 1);
    await b2.elector.stop();
    await time.advance(5 * LEASE_MS);
    assert.equal(b1.elections.length, 0);
    assert.deepEqual(refusals(lines).map((l) => l.line), ['not taking the lease: a partition is unclean', 'not taking the lease: a partition is unclean']);
  });
});
