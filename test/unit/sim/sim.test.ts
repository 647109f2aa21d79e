import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { report } from '../../sim/report.js';
import { MUTATIONS, type Mutation } from '../../sim/config.js';
import { runSeed } from '../../sim/run.js';

/**
 * The seeded simulation (test/sim) in its fast form: the real decision functions driven through
 * crashes, pauses, partitions, message loss and reordering, Redis restarts and power loss, with
 * every invariant checked after every event. More seeds: `npm run sim -- --seeds 100000`.
 *
 * SIM_SEEDS (default 60) sets how many short seeds run here.
 */
const SEEDS = Number(process.env.SIM_SEEDS ?? 60);

describe('seeded simulation of the election and replication decisions', () => {
  test(`every invariant holds on ${SEEDS} seeds`, async (t) => {
    let steps = 0;
    let acks = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = await runSeed(seed, { short: true });
      steps += r.steps;
      acks += r.stats.acks;
      if (!r.ok) assert.fail(report(r, true));
    }
    t.diagnostic(`${SEEDS} seeds, ${steps} steps, ${acks} acknowledged records checked`);
  });

  // Replication streams (config.streams > 1): frames and answers in order on connections that
  // reset, FollowerSession sending frames ahead of their answers (pipelining). The regression seeds
  // below run with POSTs (streams 1), as they were found.
  test(`every invariant holds on ${Math.ceil(SEEDS / 2)} seeds over replication streams (pipelining, 4 in flight)`, async (t) => {
    let acks = 0;
    for (let seed = 1; seed <= Math.ceil(SEEDS / 2); seed++) {
      const r = await runSeed(seed, { short: true, config: { streams: 4 } });
      acks += r.stats.acks;
      if (!r.ok) assert.fail(report(r, true));
    }
    t.diagnostic(`${acks} acknowledged records checked`);
  });

  test('over replication streams the checker still catches a leader committing on its own log end', async () => {
    let caught: string | null = null;
    for (let seed = 1; seed <= 120 && !caught; seed++) {
      const r = await runSeed(seed, { short: true, config: { mutation: 'hwm-ignores-followers', streams: 4 } });
      if (!r.ok) caught = `seed ${seed}: ${r.violations[0]!.invariant}`;
    }
    assert.ok(caught, 'hwm-ignores-followers went unnoticed in 120 seeds over streams');
  });

  test('a run is a function of its seed alone (so a failure replays)', async () => {
    const a = await runSeed(42, { short: true, trace: true });
    const b = await runSeed(42, { short: true, trace: true });
    assert.equal(a.steps, b.steps);
    assert.deepEqual(a.stats, b.stats);
    assert.equal(a.trace, b.trace);
  });

  test('the checker catches each deliberately broken rule', async (t) => {
    // no-write-deadline needs a leader woken from a pause at its deadline: the first short seed
    // that shows it is 23 since every first election waits for every candidacy (seed 1579).
    for (const mutation of MUTATIONS.filter((m) => !m.startsWith('revert-'))) {
      let caught: string | null = null;
      for (let seed = 1; seed <= 120 && !caught; seed++) {
        const r = await runSeed(seed, { short: true, config: { mutation } });
        if (!r.ok) caught = `seed ${seed}: ${r.violations[0]!.invariant}`;
      }
      assert.ok(caught, `mutation ${mutation} went unnoticed in 120 seeds`);
      t.diagnostic(`${mutation} → ${caught}`);
    }
  });

  // The protocol bugs this simulation found (test/sim/README.md, "Bugs found") are fixed in
  // election/ and replication/. Each mutation `revert-X` puts the old rule back: on the seed below
  // the checker must catch it again, and the same seed must pass with the rule as it is now.
  // A change of timing re-deals every seed's schedule: the seeds are found again with
  // test/sim/hunt.ts (the first seed from 1 that shows the bug under the mutation and passes
  // without it); the README's "Bugs found" names the seeds of the time. The simulation now runs the
  // real Elector and replication classes (issue 13: the mutations are ElectorRules and
  // ReplicationRules injected into them), and every run's first election waits for every
  // candidacy (seed 1579), so A, B, D2 and E were found again (E with the lossy-follower fault); `short` seeds run the shorter runs
  // of the subset above. revert-A is the original bug only (the unknown outcome's catch path): it
  // takes a leader losing Redis's answers (the redis-flaky fault) to show up.
  const FOUND: readonly { mutation: Mutation; seed: number; short?: boolean; invariant: string; what: string; pending?: string }[] = [
    { mutation: 'revert-A', seed: 37, short: true, invariant: 'a new leader has every committed record', what: 'an in-sync set expansion that timed out but was applied' },
    { mutation: 'revert-B', seed: 13, short: true, invariant: 'the cluster settles after the faults heal', what: 'a failed read right after winning the lease' },
    { mutation: 'revert-D', seed: 1098, invariant: 'one leader per epoch', what: 'a recovery election reusing an epoch after Redis restarted empty' },
    // revert-D's second face (seed 450 before: a recovery election while the old leader could still
    // write, "at most one broker can write at a time") was not found again in 35 CPU-minutes of seeds
    // from 1 and from 1200 after the renewal-timing change; the seed above still catches revert-D.
    // Found unmutated once the simulation ran the real replication classes: Redis restarted empty,
    // the broker holding epoch 1's records waited out a 5 s command timeout, and one with an empty
    // disk (a "brand-new cluster" to its eyes) led epoch 1 again after 3 polls. Fixed in
    // decisions.ts (recoveryWaitMs: every candidacy heard first); revert-D keeps the 3 polls.
    { mutation: 'revert-D', seed: 1579, invariant: 'one leader per epoch', what: 'a broker with an empty disk recovering while the one holding the records waits out a command timeout' },
    // Found again through redis-restart-cut as an epoch reused: b3 recovered while b2, which led
    // epoch 2 and is a member of the newest in-sync set b3 remembers ([b2, b3]), was down.
    { mutation: 'revert-D2', seed: 214, invariant: 'one leader per epoch', what: 'a recovery while a member of the newest remembered in-sync set is missing' },
    // Found unmutated through redis-restart-cut: b2 and b3 (the in-sync set [b2, b3]) stated their
    // candidacies after Redis restarted empty, then each one's Redis link stalled behind a slow
    // answer past the recovery wait; their candidacies expired and b1, with an empty disk, saw
    // nobody's past and led epoch 1 again. Fixed by the stated history (STATE_HISTORY_LUA).
    { mutation: 'revert-D3', seed: 111, invariant: 'one leader per epoch', what: 'a broker with an empty disk recovering once the candidacies of stalled brokers expired' },
    // Found again with the lossy-follower fault (hunt.ts --fault lossy-follower: the 52nd seed that
    // has it, 3 minutes on a loaded machine): 68 no longer showed E once every first election
    // waited for every candidacy, and about 4,300 seeds without that fault showed none. b2 lost
    // every answer to the leader b5 past the replica lag, then half: a truncation it applied was
    // resent after its answer was lost, by then below the high-water mark the first one taught
    // it; it cut 47..71 and wrote the same records back. Re-found (seed 36, hunt.ts --fault
    // lossy-follower, 38 s) after a follower rejoins the in-sync set only while its registration is
    // alive, which re-dealt seed 468's schedule.
    { mutation: 'revert-E', seed: 36, invariant: 'a replica never truncates below its high-water mark', what: 'a truncating request resent after its answer was lost' },
  ];
  for (const f of FOUND) {
    test(`${f.mutation.replace('revert-', '')} stays fixed: ${f.short ? 'short ' : ''}seed ${f.seed} (${f.what}) breaks "${f.invariant}" only under ${f.mutation}`, { skip: f.pending ?? false }, async () => {
      const broken = await runSeed(f.seed, { short: f.short ?? false, config: { mutation: f.mutation } });
      assert.equal(broken.violations[0]?.invariant, f.invariant, `${f.mutation} on seed ${f.seed}: ${report(broken, false)}`);
      const fixed = await runSeed(f.seed, { short: f.short ?? false });
      if (!fixed.ok) assert.fail(report(fixed, true));
    });
  }
});
