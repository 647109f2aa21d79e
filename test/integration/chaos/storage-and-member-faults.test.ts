// run-tests: alone — the workload's progress (acknowledged records) and the group's catching up
// are measured against a 1 s lease; a second file's processes on the same 2 cores slow them down.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runChaos } from '../../../chaos/harness.js';
import { MEMBER_FAULT_NAMES } from '../../../chaos/member-faults.js';
import { DEFAULT_OPTIONS } from '../../../chaos/options.js';
import { randomSeed } from '../../../testkit/rng.js';
import { DISK_FULL_FAULTS, STORAGE_FAULT_NAMES } from '../../../chaos/storage-faults.js';
import { assertChaosVerdict } from './verdict.js';

/**
 * One chaos run, one shuffled round of two families of faults (once two separate runs, of 25 s and
 * 30 s; one run spares a cluster start, a heal and the final reads, and a round rather than a
 * duration injects every kind however slow the machine):
 * - the storage faults (issue 10): a full disk on the leader and on a follower (each broker's data
 *   on its own tmpfs, filled with a ballast file and freed again), and a broker SIGKILLed with the
 *   end of one partition's log lost — the last segment deleted, truncated to zero bytes, or cut
 *   below the high-water mark checkpoint — or a bit flipped in one of its checkpoint files,
 *   sometimes started alone. Without root the disk-full
 *   faults are skipped and the report says why.
 * - the faults aimed at the consumer group's members (issue 14): a member SIGKILLed without leaving
 *   and replaced after a hold, a member frozen past its session timeout that resumes as a zombie
 *   with a stale generation, and the leader (the group's coordinator) killed in between.
 * The checker's invariants are the ones every run has: no acknowledged record lost or changed,
 * offsets contiguous, replicas equal; and for the group: every acknowledged record processed, no
 * committed offset going backwards, no partition given to two members of one generation.
 * Set YAK_CHAOS_SEED to replay a seed.
 */
describe('chaos: storage faults and group member faults (one round)', () => {
  test('full disks, lost segment tails, killed and frozen group members and a killed coordinator: nothing acknowledged lost, replicas agree, the group stays at-least-once with monotonic offsets', async (t) => {
    const seed = process.env.YAK_CHAOS_SEED ? Number(process.env.YAK_CHAOS_SEED) : randomSeed();
    const faults = [...STORAGE_FAULT_NAMES, ...MEMBER_FAULT_NAMES, 'kill-leader'] as const;
    t.diagnostic(`seed ${seed} (replay: YAK_CHAOS_SEED=${seed}, or npm run chaos -- --seed ${seed} --faults ${faults.join(',')} --rounds 1 --group-consumers 3)`);
    const run = await runChaos({ ...DEFAULT_OPTIONS, seed, faults: [...faults], rounds: 1, groupConsumers: 3, quiet: true }, (line) => t.diagnostic(line));
    assert.ok(run.result.records.acked > 200, `the workload made progress: ${run.result.records.acked} acknowledged records`);
    const skipped = Object.keys(run.result.skipped);
    assert.ok(skipped.every((f) => DISK_FULL_FAULTS.includes(f as (typeof DISK_FULL_FAULTS)[number])), `only disk-full faults may be skipped: ${skipped.join(', ')}`);
    const injected = faults.filter((f) => !skipped.includes(f));
    assert.deepEqual(injected.filter((f) => !((run.result.faults[f] ?? 0) >= 1)), [], `every fault kind injected at least once: ${JSON.stringify(run.result.faults)}`);
    assert.equal(run.result.group.drained, true, 'the group caught up after the heal');
    const memberFaults = (run.result.faults['kill-member'] ?? 0) + (run.result.faults['pause-member'] ?? 0);
    assert.equal(run.result.group.memberFaults.length, memberFaults, 'each member fault hit a running member');
    await assertChaosVerdict(t, run);
  });
});
