import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assign, type AssignMember, type TopicPartition } from '../../../broker-runtime/src/groups/assignors.js';

const counts: Record<string, number> = { a: 3, b: 2, c: 7 };
const count = (t: string) => counts[t];
const m = (memberId: string, topics: string[], owned: TopicPartition[] = []): AssignMember => ({ memberId, topics, owned });
const names = (tps: TopicPartition[] | undefined) => (tps ?? []).map((p) => `${p.topic}${p.partition}`).join(' ');

test('range gives each subscriber a consecutive range per topic, the first ones one more', () => {
  const r = assign('range', [m('x', ['a', 'b']), m('y', ['a', 'b'])], count);
  assert.equal(names(r.get('x')), 'a0 a1 b0');
  assert.equal(names(r.get('y')), 'a2 b1');
});

test('round-robin deals partitions in turn, skipping members not subscribed', () => {
  const r = assign('roundrobin', [m('x', ['a', 'b']), m('y', ['a'])], count);
  assert.equal(names(r.get('x')), 'a0 a2 b0 b1');
  assert.equal(names(r.get('y')), 'a1');
});

test('every strategy assigns each partition to exactly one member, and unknown topics to nobody', () => {
  for (const s of ['range', 'roundrobin', 'sticky'] as const) {
    const r = assign(s, [m('x', ['a', 'c', 'nope']), m('y', ['c']), m('z', ['a', 'b', 'c'])], count);
    const all = [...r.values()].flat().map((p) => `${p.topic}${p.partition}`).sort();
    assert.deepEqual(all, ['a0', 'a1', 'a2', 'b0', 'b1', ...Array.from({ length: 7 }, (_, i) => `c${i}`)].sort(), s);
  }
});

test('sticky keeps what members owned when one joins, and moves only what the newcomer needs', () => {
  const before = assign('sticky', [m('x', ['c']), m('y', ['c'])], count);
  const after = assign('sticky', [m('x', ['c'], before.get('x')), m('y', ['c'], before.get('y')), m('z', ['c'])], count);
  const moved = [...after.entries()].flatMap(([id, tps]) => tps.filter((tp) => !(before.get(id) ?? []).some((o) => o.topic === tp.topic && o.partition === tp.partition)));
  assert.equal(moved.length, 2, `moved ${names(moved)}`); // 7 over 3: z gets 2, the others keep 5 of their 7 between them
  const sizes = [...after.values()].map((l) => l.length).sort();
  assert.deepEqual(sizes, [2, 2, 3]);
});

test('sticky hands a leaving member\'s partitions to the others and keeps theirs', () => {
  const before = assign('sticky', [m('x', ['c']), m('y', ['c']), m('z', ['c'])], count);
  const after = assign('sticky', [m('x', ['c'], before.get('x')), m('y', ['c'], before.get('y'))], count);
  for (const id of ['x', 'y']) for (const tp of before.get(id)!) assert.ok(after.get(id)!.some((o) => o.partition === tp.partition), `${id} keeps c${tp.partition}`);
});
