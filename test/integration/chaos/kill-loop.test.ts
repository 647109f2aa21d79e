// run-tests: alone — the workload's progress (acknowledged records) is measured against a 1 s lease;
// a second file's processes on the same 2 cores slow it down.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runChaos } from '../../../chaos/harness.js';
import { DEFAULT_OPTIONS } from '../../../chaos/options.js';
import { randomSeed } from '../../../testkit/rng.js';
import { assertChaosVerdict } from './verdict.js';

const KILLS = 20;

/**
 * Issue 6, part 2: SIGKILL a writing broker (the leader, or a follower appending its records) and
 * restart it at once, again and again under load. Every restart must recover its logs and rejoin,
 * and the cluster must keep every acknowledged record. `npm run chaos -- --kill-loop 300` soaks.
 */
describe('SIGKILL loop', () => {
  test(`a writing broker killed and restarted ${KILLS} times: every restart recovers, nothing acknowledged is lost`, async (t) => {
    const seed = process.env.YAK_CHAOS_SEED ? Number(process.env.YAK_CHAOS_SEED) : randomSeed();
    t.diagnostic(`seed ${seed} (replay: npm run chaos -- --seed ${seed} --kill-loop ${KILLS})`);
    const run = await runChaos({ ...DEFAULT_OPTIONS, seed, faults: ['kill-restart'], killLoop: KILLS, quiet: true }, (line) => t.diagnostic(line));
    assert.equal(run.result.faults['kill-restart'], KILLS);
    assert.equal(run.result.violations.crash, 0, 'no broker failed to start again');
    assert.ok(run.result.records.acked > 200, `the workload made progress: ${run.result.records.acked} acknowledged records`);
    await assertChaosVerdict(t, run);
  });
});
