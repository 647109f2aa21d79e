import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { missingCommitted } from '../../../broker-runtime/src/election/mirrored-commits.js';

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
