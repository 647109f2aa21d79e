import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runChaos } from '../../../chaos/harness.js';
import { DEFAULT_OPTIONS } from '../../../chaos/options.js';
import { randomSeed } from '../../../testkit/rng.js';
import { assertChaosVerdict } from './verdict.js';

/**
 * The consumer group under faults aimed at its members (issue 14): a member SIGKILLed without
 * leaving and replaced after a hold, a member frozen past its session timeout that resumes as a
 * zombie with a stale generation, and the leader (the group's coordinator) killed in between. Every
 * acknowledged record must still be processed by the group, no committed offset may go backwards,
 * no partition may be given to two members of one generation. Set YAK_CHAOS_SEED to replay a seed.
 */
describe('chaos: group member faults', () => {
  test('kill-member, pause-member and kill-leader keep the consumer group at-least-once and its offsets monotonic', async (t) => {
    const seed = process.env.YAK_CHAOS_SEED ? Number(process.env.YAK_CHAOS_SEED) : randomSeed();
    const faults = ['kill-member', 'pause-member', 'kill-leader'] as const;
    t.diagnostic(`seed ${seed} (replay: YAK_CHAOS_SEED=${seed}, or npm run chaos -- --seed ${seed} --faults ${faults.join(',')} --seconds 30 --group-consumers 3)`);
    const run = await runChaos({ ...DEFAULT_OPTIONS, seed, faults: [...faults], durationMs: 30_000, groupConsumers: 3, quiet: true }, (line) => t.diagnostic(line));
    assert.ok(run.result.records.acked > 100, `the workload made progress: ${run.result.records.acked} acknowledged records`);
    for (const f of faults) assert.ok((run.result.faults[f] ?? 0) >= 1, `${f} was injected: ${JSON.stringify(run.result.faults)}`);
    assert.equal(run.result.group.drained, true, 'the group caught up after the heal');
    const memberFaults = (run.result.faults['kill-member'] ?? 0) + (run.result.faults['pause-member'] ?? 0);
    assert.equal(run.result.group.memberFaults.length, memberFaults, 'each member fault hit a running member');
    await assertChaosVerdict(t, run);
  });
});
