import type { RunResult } from './run.js';

/**
 * Which of the reported bugs (README.md, "Bugs found") a failure most likely is, from the broken
 * invariant and the trace. A guess for the summary line; the trace is the evidence.
 */
export function likelyBug(r: RunResult): string {
  const v = r.violations[0];
  if (!v) return '';
  const t = r.trace;
  const settled = v.invariant === 'the cluster settles after the faults heal';
  if (settled && v.detail.includes('leader(not writable)')) return 'B (lease held, leadership never started)';
  if (settled) return 'unknown (does not settle)';
  if (v.invariant === 'a replica never truncates below its high-water mark') return 'E (unconditional truncation, retried request)';
  if (/one leader per epoch|epochs only grow|at most one broker can write/.test(v.invariant)) return 'D (recovery after Redis lost its data)';
  if (v.invariant === 'committed entries never change' && /truncating divergent tail (\d+)\.\..*\n[\s\S]*truncating divergent tail \1\.\..*below our high-water mark/.test(t)) {
    return 'E (unconditional truncation, late request)';
  }
  if (/\(expand \S+\): Command timed out/.test(t)) return 'A (in-sync set expansion with unknown outcome)';
  if (/mode recover/.test(t) && /redis back, empty/.test(t)) return 'D (recovery after Redis lost its data)';
  return 'unknown';
}
