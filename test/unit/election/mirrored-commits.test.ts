import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { leadsShortAnyway, missingCommitted } from '../../../broker-runtime/src/election/mirrored-commits.js';

describe('missingCommitted: logs that end below a high-water mark mirrored into Redis', () => {
  const ends = new Map([['t/0', 10], ['t/1', 5], ['a.b-c/0', 7]]);
  const logEnd = (topic: string, partition: number) => ends.get(`${topic}/${partition}`) ?? 0;

  it('finds nothing where every log reaches its mark (equal counts as reached), or Redis has none', () => {
    assert.equal(missingCommitted({ 't/0': '10', 't/1': '3', 'a.b-c/0': '7' }, logEnd), null);
    assert.equal(missingCommitted({}, logEnd), null);
  });

  it('names a partition whose log ends below its mark, and one this broker does not have at all', () => {
    assert.deepEqual(missingCommitted({ 't/0': '10', 't/1': '6', 'gone/2': '4' }, logEnd), {
      partitions: 2,
      examples: ['t/1 (log end 5 < high-water mark 6)', 'gone/2 (log end 0 < high-water mark 4)'],
    });
  });

  it('a mark of 0 asks nothing of a missing partition; fields and values that are not a partition and a count are ignored', () => {
    assert.equal(missingCommitted({ 'new/0': '0', noslash: '9', '/0': '9', 't/x': '9', 't/-1': '9', 't/0': 'many', 'u/0': '1e3' }, logEnd), null);
  });

  it('keeps the examples few and the count whole', () => {
    const mirrored = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`lost/${i}`, '1']));
    const found = missingCommitted(mirrored, () => 0);
    assert.equal(found?.partitions, 50);
    assert.equal(found?.examples.length, 3);
  });
});

describe('leadsShortAnyway: when every in-sync replica is short, the one holding most leads', () => {
  const alive = (id: string, short?: number) => ({ id, alive: true, ...(short !== undefined && { short: { logEndTotal: short } }) });

  it('not while another member is whole, down, or unknown', () => {
    assert.equal(leadsShortAnyway({ id: 'b3', logEndTotal: 0 }, ['b1', 'b2', 'b3'], [alive('b1'), alive('b2', 90), alive('b3', 0)]), false);
    assert.equal(leadsShortAnyway({ id: 'b3', logEndTotal: 0 }, ['b1', 'b2', 'b3'], [{ id: 'b1', alive: false, short: { logEndTotal: 0 } }, alive('b2', 0), alive('b3', 0)]), false);
    assert.equal(leadsShortAnyway({ id: 'b3', logEndTotal: 0 }, ['b1', 'b3'], [alive('b3', 0)]), false);
  });

  it('every member alive and short: only the one with the most, ties to the smallest id', () => {
    const brokers = [alive('b1', 95), alive('b2', 92), alive('b3', 95)];
    assert.equal(leadsShortAnyway({ id: 'b1', logEndTotal: 95 }, ['b1', 'b2', 'b3'], brokers), true);
    assert.equal(leadsShortAnyway({ id: 'b2', logEndTotal: 92 }, ['b1', 'b2', 'b3'], brokers), false);
    assert.equal(leadsShortAnyway({ id: 'b3', logEndTotal: 95 }, ['b1', 'b2', 'b3'], brokers), false);
  });

  it('brokers outside the in-sync set do not count; with none recorded, every live broker does', () => {
    assert.equal(leadsShortAnyway({ id: 'b2', logEndTotal: 5 }, ['b2'], [alive('b1'), alive('b2', 5)]), true);
    assert.equal(leadsShortAnyway({ id: 'b2', logEndTotal: 5 }, null, [alive('b1'), alive('b2', 5)]), false);
    assert.equal(leadsShortAnyway({ id: 'b2', logEndTotal: 5 }, null, [{ id: 'b1', alive: false }, alive('b2', 5)]), true);
  });
});
