import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionProbation, type RefusalCause } from '../../../broker-runtime/src/net/connection-probation.js';

/**
 * The bookkeeping behind --max-connections on the REST port (http/connection-limit.ts), on a
 * hand-driven clock: below the cap a connection is kept; past it, on probation until promoted,
 * refused, evicted by a newcomer (the oldest first, never one younger than the grace) or past
 * its deadline; the connections held stay within max + slots + maxPromoted.
 */
function world(o: { max?: number; slots?: number; deadlineMs?: number; graceMs?: number; maxPromoted?: number } = {}) {
  let now = 0;
  const timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  const closed: string[] = [];
  const refused: [string, RefusalCause][] = [];
  const pool = new ConnectionProbation<string>({
    max: o.max ?? 2,
    slots: o.slots ?? 3,
    deadlineMs: o.deadlineMs ?? 1000,
    graceMs: o.graceMs ?? 100,
    maxPromoted: o.maxPromoted ?? 2,
    close: (c) => closed.push(c),
    refused: (c, why) => refused.push([c, why]),
    now: () => now,
    after: (ms, fn) => {
      const t = { at: now + ms, fn, cancelled: false };
      timers.push(t);
      return { cancel: () => void (t.cancelled = true) };
    },
  });
  /** Moves the clock to `ms` from the start, firing the timers due meanwhile in order. */
  const advanceTo = (ms: number) => {
    for (;;) {
      const due = timers.filter((t) => !t.cancelled && t.at <= ms).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      now = due.at;
      due.cancelled = true;
      due.fn();
    }
    now = ms;
  };
  return { pool, closed, refused, advanceTo };
}

test('below the cap every connection is kept; past it each waits on probation, and leaving frees a regular place', () => {
  const { pool, closed } = world({ max: 2 });
  assert.equal(pool.arrive('a'), 'regular');
  assert.equal(pool.arrive('b'), 'regular');
  assert.equal(pool.arrive('c'), 'probation');
  assert.equal(pool.onProbation('c'), true);
  assert.equal(pool.onProbation('a'), false);
  pool.left('a');
  assert.equal(pool.arrive('d'), 'regular');
  assert.deepEqual(pool.counts(), { regular: 2, probation: 1, promoted: 0 });
  assert.deepEqual(closed, []);
});

test('a probationer not promoted within the deadline is closed and refused; a promoted one stays past it', () => {
  const { pool, closed, refused, advanceTo } = world({ max: 1, deadlineMs: 1000 });
  pool.arrive('regular');
  pool.arrive('silent');
  advanceTo(10);
  pool.arrive('leader');
  pool.promote('leader');
  advanceTo(999);
  assert.deepEqual(closed, []);
  advanceTo(1000);
  assert.deepEqual(closed, ['silent']);
  assert.deepEqual(refused, [['silent', 'deadline']]);
  advanceTo(60_000);
  assert.deepEqual(closed, ['silent'], 'the promoted connection has no deadline');
  assert.deepEqual(pool.counts(), { regular: 1, probation: 0, promoted: 1 });
  // Once it closes, its place is free; a deadline that was cancelled never fires.
  pool.left('leader');
  assert.deepEqual(pool.counts(), { regular: 1, probation: 0, promoted: 0 });
});

test('a newcomer to a full probation evicts the oldest probationer, oldest first', () => {
  const { pool, closed, refused, advanceTo } = world({ max: 1, slots: 3, graceMs: 100, deadlineMs: 10_000 });
  pool.arrive('r');
  for (const [i, c] of ['p1', 'p2', 'p3'].entries()) {
    advanceTo(i * 10);
    assert.equal(pool.arrive(c), 'probation');
  }
  advanceTo(200);
  assert.equal(pool.arrive('n1'), 'probation');
  assert.equal(pool.arrive('n2'), 'probation');
  assert.deepEqual(closed, ['p1', 'p2']);
  assert.deepEqual(refused, [['p1', 'evicted'], ['p2', 'evicted']]);
  assert.deepEqual(pool.counts(), { regular: 1, probation: 3, promoted: 0 });
  // An evicted connection's deadline never fires again, and its close finds nothing to free.
  pool.left('p1');
  advanceTo(20_000);
  assert.deepEqual(refused.map(([c]) => c), ['p1', 'p2', 'p3', 'n1', 'n2']);
});

test('a probationer younger than the grace is not evicted: the newcomer is refused at once instead', () => {
  const { pool, closed, refused, advanceTo } = world({ max: 1, slots: 2, graceMs: 100 });
  pool.arrive('r');
  pool.arrive('leader');
  advanceTo(50);
  pool.arrive('p');
  advanceTo(99);
  assert.equal(pool.arrive('flood1'), 'refused');
  assert.deepEqual(closed, ['flood1']);
  assert.deepEqual(refused, [['flood1', 'probation full']]);
  assert.equal(pool.onProbation('leader'), true, 'the young probationer had its grace');
  // The leader proves itself within its grace: it leaves probation, and the next newcomer has a place.
  pool.promote('leader');
  assert.equal(pool.arrive('flood2'), 'probation');
  advanceTo(150);
  assert.equal(pool.arrive('flood3'), 'probation', 'p is past its grace: evicted');
  assert.deepEqual(refused.at(-1), ['p', 'evicted']);
});

test('refuse closes a probationer and counts it; promote and refuse do nothing to a regular connection', () => {
  const { pool, closed, refused } = world({ max: 1 });
  pool.arrive('r');
  pool.arrive('rest');
  pool.refuse('rest');
  pool.refuse('r');
  pool.promote('r');
  assert.deepEqual(closed, ['rest']);
  assert.deepEqual(refused, [['rest', 'not proven']]);
  assert.deepEqual(pool.counts(), { regular: 1, probation: 0, promoted: 0 });
  pool.refuse('rest');
  assert.equal(refused.length, 1, 'refused once');
});

test('an answered probationer is refused at once, counted once, keeps its place until it closes, and can no longer be promoted', () => {
  const { pool, closed, refused, advanceTo } = world({ max: 1, slots: 2, deadlineMs: 1000 });
  pool.arrive('r');
  pool.arrive('old-leader');
  assert.equal(pool.answer('old-leader'), true);
  assert.deepEqual(refused, [['old-leader', 'answered']]);
  assert.deepEqual(closed, [], 'the listener closes it once its answer is written');
  assert.equal(pool.answer('old-leader'), false, 'answered once');
  assert.equal(pool.answer('r'), false, 'a regular connection is not on probation');
  pool.promote('old-leader');
  assert.deepEqual(pool.counts(), { regular: 1, probation: 1, promoted: 0 }, 'it holds its probation place meanwhile');
  // Its close frees the place, and its deadline never fires.
  pool.left('old-leader');
  assert.deepEqual(pool.counts(), { regular: 1, probation: 0, promoted: 0 });
  advanceTo(5000);
  // One whose peer never closes is closed at its deadline (or by refuse, or an eviction), not counted again.
  pool.arrive('a');
  pool.arrive('b');
  pool.answer('a');
  pool.answer('b');
  pool.refuse('b');
  advanceTo(7000);
  assert.deepEqual(closed, ['b', 'a']);
  assert.deepEqual(refused.map(([, why]) => why), ['answered', 'answered', 'answered']);
  assert.deepEqual(pool.counts(), { regular: 1, probation: 0, promoted: 0 });
});

test('past maxPromoted a newly promoted connection closes the oldest promoted one (not counted as refused)', () => {
  const { pool, closed, refused } = world({ max: 1, maxPromoted: 2 });
  pool.arrive('r');
  for (const c of ['s1', 's2', 's3']) {
    pool.arrive(c);
    pool.promote(c);
  }
  assert.deepEqual(closed, ['s1']);
  assert.deepEqual(refused, []);
  assert.deepEqual(pool.counts(), { regular: 1, probation: 0, promoted: 2 });
});

test('whatever arrives, the connections held never exceed max + slots + maxPromoted', () => {
  const max = 3;
  const slots = 4;
  const maxPromoted = 2;
  const { pool, closed, advanceTo } = world({ max, slots, maxPromoted, graceMs: 20, deadlineMs: 500 });
  const open = new Set<string>();
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 5000; i++) {
    advanceTo(i * 3);
    for (const c of closed.splice(0)) open.delete(c);
    const c = `c${i}`;
    if (pool.arrive(c) !== 'refused') open.add(c);
    for (const c of closed.splice(0)) open.delete(c);
    const r = rand();
    const some = [...open][Math.floor(rand() * open.size)];
    if (some && r < 0.05) pool.promote(some);
    else if (some && r < 0.08) pool.answer(some);
    else if (some && r < 0.15) {
      pool.left(some);
      open.delete(some);
    }
    for (const c of closed.splice(0)) open.delete(c);
    const { regular, probation, promoted } = pool.counts();
    assert.ok(regular <= max && probation <= slots && promoted <= maxPromoted, JSON.stringify(pool.counts()));
    assert.equal(regular + probation + promoted, open.size, 'every open connection is counted once');
    assert.ok(open.size <= max + slots + maxPromoted);
  }
});

test('bad sizes are refused', () => {
  const base = { max: 1, slots: 1, deadlineMs: 1, graceMs: 0, maxPromoted: 1, close: () => {}, refused: () => {} };
  assert.throws(() => new ConnectionProbation({ ...base, max: 0 }), /max must be a positive integer; got 0/);
  assert.throws(() => new ConnectionProbation({ ...base, slots: 1.5 }), /slots must be a positive integer/);
  assert.throws(() => new ConnectionProbation({ ...base, maxPromoted: -1 }), /maxPromoted must be a positive integer/);
});
