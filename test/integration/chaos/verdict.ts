import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import type { TestContext } from 'node:test';
import { SAFETY_KINDS, type ViolationKind } from '../../../chaos/checker.js';
import type { ChaosResult } from '../../../chaos/harness.js';

/**
 * Known broker bugs the harness finds, kept visible as TODO subtests (reported, not failing the
 * suite) until they are fixed; everything else must be zero. None is open: the last one
 * (failed-visible: 421 NOT_LEADER answered after the records were appended) is fixed — such a
 * produce now answers 503/504 with outcome "unknown".
 */
export const KNOWN_BUGS: Partial<Record<ViolationKind, string>> = {};

/**
 * Print the report and assert the verdict. The run's folder (history, broker logs, data) is kept
 * when an assertion fails, and removed otherwise — also when only known bugs showed: their seed replays them.
 */
export async function assertChaosVerdict(t: TestContext, run: ChaosResult): Promise<void> {
  for (const line of run.text.split('\n')) t.diagnostic(line);
  const unexpected = SAFETY_KINDS.filter((k) => run.result.violations[k] > 0 && !KNOWN_BUGS[k]);
  const where = `seed and history: ${run.historyPath}`;
  assert.deepEqual(unexpected.map((k) => `${k}: ${run.result.violations[k]}`), [], `safety violations; ${where}`);
  assert.deepEqual(run.result.liveness, [], `the cluster did not recover or converge; ${where}`);
  for (const [kind, why] of Object.entries(KNOWN_BUGS)) {
    await t.test(`no ${kind} violations`, { todo: why }, () => {
      assert.equal(run.result.violations[kind as ViolationKind], 0, `${run.result.violations[kind as ViolationKind]} ${kind} (seed ${run.seed}; the report above has examples)`);
    });
  }
  await rm(run.dir, { recursive: true, force: true });
}
