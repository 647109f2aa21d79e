// run-tests: alone — the workload's progress (acknowledged records) is measured against a 1 s lease;
// a second file's processes on the same 2 cores slow it down.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runChaos } from '../../../chaos/harness.js';
import { DEFAULT_OPTIONS } from '../../../chaos/options.js';
import { randomSeed } from '../../../testkit/rng.js';
import { assertChaosVerdict } from './verdict.js';

/**
 * The chaos harness, short: a 3-broker cluster with a real redis-server behind proxies, producers
 * and consumers, and the nemesis injecting the default faults one after another (kills, pauses,
 * SIGTERM, restarts, network cuts and delays, Redis killed, paused and wiped, garbled tails, full
 * disks and lost segment tails, consumer-group members killed and paused;
 * storage-and-member-faults.test.ts runs a round of those alone) for
 * 40 s; then heal, read every replica, check the history. `npm run chaos -- --minutes 10` soaks.
 * Set YAK_CHAOS_SEED to replay a seed.
 */
describe('chaos (short run)', () => {
  test('no acknowledged write is lost, no refused write appears, replicas agree, through every default fault', async (t) => {
    const seed = process.env.YAK_CHAOS_SEED ? Number(process.env.YAK_CHAOS_SEED) : randomSeed();
    t.diagnostic(`seed ${seed} (replay: YAK_CHAOS_SEED=${seed}, or npm run chaos -- --seed ${seed} --seconds 40)`);
    const run = await runChaos({ ...DEFAULT_OPTIONS, seed, durationMs: 40_000, quiet: true }, (line) => t.diagnostic(line));
    assert.ok(run.result.records.acked > 200, `the workload made progress: ${run.result.records.acked} acknowledged records`);
    assert.ok(Object.keys(run.result.faults).length >= 5, `several kinds of fault: ${JSON.stringify(run.result.faults)}`);
    await assertChaosVerdict(t, run);
  });
});
