import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Group } from '../../../broker-runtime/src/groups/group.js';
import { GroupRebuilder, OFFSETS_COMPACTION_RULE, offsetRecord } from '../../../broker-runtime/src/groups/offsets-log.js';
import { type Keeper } from '../../../broker-runtime/src/log/compaction.js';

/** A seeded generator (mulberry32), so a failure names the sequence that broke the rule. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function groupPayload(group: string, generation: number): { key: string; payload: string } {
  const record = { type: 'group', group, generation, protocol_type: 'consumer', protocol: 'range', leader: `m${generation}`, members: [] };
  return { key: JSON.stringify(['group', group]), payload: JSON.stringify(record) };
}

function rebuild(records: { payload: string }[]): string {
  const r = new GroupRebuilder((id) => new Group(id), () => 0);
  for (const x of records) r.apply(x.payload);
  const out: unknown[] = [];
  for (const [id, g] of [...r.groups].sort()) out.push([id, g.generation, g.leaderId, [...g.offsets.entries()].sort()]);
  return JSON.stringify(out);
}

describe('the compaction rule of __consumer_offsets', () => {
  it('keeping only the record it picks per key rebuilds the same groups as every record (commits racing out of order, resets, generations)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const next = rng(seed);
      const records: { key: string; payload: string }[] = [];
      for (let i = 0; i < 40; i++) {
        const group = `g${Math.floor(next() * 2)}`;
        const x = next();
        if (x < 0.6) records.push(offsetRecord({ group, topic: 't', partition: Math.floor(next() * 3), offset: Math.floor(next() * 50), metadata: `m${i}`, commit_timestamp: i }));
        else if (x < 0.75) records.push(offsetRecord({ group, topic: 't', partition: Math.floor(next() * 3), offset: Math.floor(next() * 50), metadata: '', commit_timestamp: i, reset: true }));
        else if (x < 0.95) records.push(groupPayload(group, Math.floor(next() * 6)));
        else records.push({ key: JSON.stringify(['junk', group]), payload: 'not json' });
      }
      const keepers = new Map<string, Keeper>();
      records.forEach((r, offset) => {
        const summary = OFFSETS_COMPACTION_RULE.summarize(r.payload);
        const kept = keepers.get(r.key);
        if (kept && !OFFSETS_COMPACTION_RULE.replaces(kept.summary as never, summary)) return;
        keepers.set(r.key, { offset, summary, tombstone: false, timestamp: 0 });
      });
      const kept = records.filter((r, offset) => keepers.get(r.key)?.offset === offset);
      assert.equal(rebuild(kept), rebuild(records), `seed ${seed}`);
    }
  });
});
