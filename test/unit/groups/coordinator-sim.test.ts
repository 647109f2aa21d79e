import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../../testkit/rng.js';
import { YakError } from '../../../broker-runtime/src/errors/errors.js';
import { GroupCoordinator, type CoordinatorHost } from '../../../broker-runtime/src/groups/coordinator.js';
import type { StoredRecord } from '../../../broker-runtime/src/groups/offsets-log.js';
import { YAK_PROTOCOL_TYPE, decodeAssignment, encodeSubscription } from '../../../broker-runtime/src/groups/rest-protocol.js';

/**
 * The coordinator's decisions under a seeded random schedule (the real coordinator over an in-memory
 * offsets topic and a simulated clock, as the chaos sim runs the real replica): members join, rejoin,
 * heartbeat or go silent, leave, commit; writes are slow or fail; the leader moves (a new coordinator
 * reads the same topic back). After every step the invariants hold:
 *  - no partition is given to two members of one generation;
 *  - a generation number never goes back, across leader moves too;
 *  - a committed offset never goes backwards, and every acknowledged commit survives a leader move.
 * SIM_SEED=N replays one seed (SIM_DEBUG=1 prints what members learn), SIM_SEEDS=N runs more.
 */
const STRATEGIES = ['range', 'roundrobin', 'sticky'];
const PARTITIONS = 5;

async function simulate(seed: number, steps: number): Promise<{ generations: number; commits: number; moves: number }> {
  const rng = new Rng(seed);
  const clock = { now: 0 };
  const log: StoredRecord[] = [];
  let failWrites = false;
  /** Which coordinator leads: a write from an older one fails, as a fenced leader's cannot commit. */
  let leadership = 0;
  const hostFor = (term: number): CoordinatorHost => ({
    now: () => clock.now,
    append: async (records) => {
      await new Promise((r) => setImmediate(r));
      if (failWrites) throw YakError.of('NOT_ENOUGH_REPLICAS', 'simulated');
      if (term !== leadership) throw YakError.of('NOT_LEADER', 'fenced');
      log.push(...records);
    },
    readOffsetsTopic: async function* () {
      for (const r of [...log]) yield r.payload;
    },
    partitionCount: (t) => (t === 't' ? PARTITIONS : undefined),
    highWatermark: () => 1_000_000,
    logStartOffset: () => 0,
    offsetForTimestamp: async () => 0,
    notCoordinator: () => YakError.of('NOT_LEADER', 'moved'),
    log: () => {},
  });
  const start = async () => {
    const c = new GroupCoordinator(hostFor(++leadership), { tickMs: 0 });
    c.activate();
    while (!c.isActive()) await new Promise((r) => setImmediate(r));
    return c;
  };
  let c = await start();
  const strategy = rng.pick(STRATEGIES);
  interface Sim { id: string; generation: number; silent: boolean; busy: boolean }
  const members: Sim[] = [];
  const holders = new Map<string, string>(); // "gen/p" -> member
  const acked = new Map<number, number>(); // partition -> highest acknowledged commit
  let topGeneration = 0;
  let commits = 0;
  let moves = 0;
  const learn = (m: Sim, r: { memberId: string; generation: number; assignment?: Buffer }) => {
    if (process.env.SIM_DEBUG) console.log(`learn ${r.memberId.slice(4, 8)} gen ${r.generation} ${JSON.stringify(decodeAssignment(r.assignment ?? Buffer.alloc(0)).map((x) => x.partition))} log=${log.map((x) => JSON.parse(x.payload).generation ?? "o").join(",")}`);
    assert.ok(r.generation >= topGeneration || r.generation === m.generation, `seed ${seed}: generation ${r.generation} after ${topGeneration}`);
    topGeneration = Math.max(topGeneration, r.generation);
    m.id = r.memberId;
    m.generation = r.generation;
    for (const tp of decodeAssignment(r.assignment ?? Buffer.alloc(0))) {
      const at = `${r.generation}/${tp.partition}`;
      const other = holders.get(at);
      assert.ok(!other || other === r.memberId, `seed ${seed}: p${tp.partition} given to ${other} and ${r.memberId} in generation ${r.generation}`);
      holders.set(at, r.memberId);
    }
  };
  const join = (m: Sim) => {
    m.busy = true;
    void c
      .join({ group: 'g', memberId: m.id, clientId: 'sim', sessionTimeoutMs: 300, rebalanceTimeoutMs: 300, protocolType: YAK_PROTOCOL_TYPE, protocols: [{ name: strategy, metadata: encodeSubscription(['t']) }] })
      .then((r) => learn(m, r), (e: YakError) => { if (e.code === 'UNKNOWN_MEMBER_ID') m.id = ''; })
      .finally(() => (m.busy = false));
  };
  for (let step = 0; step < steps; step++) {
    const roll = rng.int(0, 99);
    const idle = members.filter((m) => !m.busy);
    const m = idle.length > 0 ? rng.pick(idle) : undefined;
    if (roll < 12 && members.length < 6) {
      const fresh: Sim = { id: '', generation: -1, silent: false, busy: false };
      members.push(fresh);
      join(fresh);
    } else if (roll < 40 && m && !m.silent) {
      try {
        c.heartbeat('g', m.id, m.generation);
      } catch (e) {
        if (['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID'].includes((e as YakError).code)) {
          if ((e as YakError).code === 'UNKNOWN_MEMBER_ID') m.id = '';
          join(m);
        }
      }
    } else if (roll < 55 && m && m.id) {
      const partition = rng.int(0, PARTITIONS - 1);
      const offset = rng.int(0, 500);
      const generation = m.generation;
      void c.commit({ group: 'g', memberId: m.id, generation, offsets: [{ topic: 't', partition, offset }] }).then(
        (answer) => {
          commits++;
          const got = answer[0]!.committed_offset;
          assert.ok(got >= offset, `seed ${seed}: commit of ${offset} answered ${got}`);
          acked.set(partition, Math.max(acked.get(partition) ?? 0, got));
        },
        () => {},
      );
    } else if (roll < 60 && m && m.id && rng.chance(0.3)) {
      try {
        c.leave('g', m.id);
      } catch {
        // already gone
      }
      members.splice(members.indexOf(m), 1);
    } else if (roll < 65 && m) {
      m.silent = !m.silent; // a member that stops (or starts again) heartbeating
    } else if (roll < 68) {
      failWrites = !failWrites;
    } else if (roll < 71) {
      // The leader moves: waiting requests are told so, and a new coordinator reads the topic back.
      c.deactivate();
      failWrites = false;
      c = await start();
      moves++;
      if (process.env.SIM_DEBUG) console.log(`move -> ${JSON.stringify(c.describe("g").generation)}`);
      for (const s of members) s.busy = false;
      for (const [p, o] of acked) {
        const now = c.fetchOffsets('g').find((x) => x.partition === p)?.offset ?? -1;
        assert.ok(now >= o, `seed ${seed}: acknowledged commit p${p}=${o} read back as ${now}`);
      }
    } else {
      clock.now += rng.int(10, 150);
      c.tick();
    }
    await new Promise((r) => setImmediate(r));
    for (const o of c.fetchOffsets('g')) assert.ok(o.offset >= (acked.get(o.partition) ?? 0), `seed ${seed}: p${o.partition} committed ${o.offset} below acknowledged ${acked.get(o.partition)}`);
  }
  c.deactivate();
  return { generations: topGeneration, commits, moves };
}

test('the coordinator keeps its promises under 40 seeded schedules of joins, silences, leaves, commits, failed writes and leader moves', async (t) => {
  let generations = 0;
  let commits = 0;
  let moves = 0;
  const only = process.env.SIM_SEED ? [Number(process.env.SIM_SEED)] : Array.from({ length: Number(process.env.SIM_SEEDS ?? 40) }, (_, i) => i + 1);
  for (const seed of only) {
    const r = await simulate(seed, 400);
    generations += r.generations;
    commits += r.commits;
    moves += r.moves;
  }
  t.diagnostic(`${generations} generations, ${commits} acknowledged commits, ${moves} leader moves`);
  assert.ok(generations > 40 && commits > 100 && moves > 40, 'the schedules exercised rebalances, commits and leader moves');
});
