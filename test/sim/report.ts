import { likelyBug } from './classify.js';
import { describe, type RunResult } from './run.js';

/** A failed run as text: seed, broken invariant, likely bug, the trace (optional) and the replay command. */
export function report(r: RunResult, withTrace: boolean): string {
  const v = r.violations[0];
  if (!v) return `✔ seed ${r.seed}: every invariant held`;
  return [
    `✖ seed ${r.seed}: ${v.invariant} — likely bug ${likelyBug(r)}`,
    `  ${v.detail}`,
    `  at ${v.at.toFixed(1)} ms (step ${v.step}); ${describe(r.config)}`,
    withTrace ? `--- trace\n${r.trace}\n---` : '',
    `  replay: npm run sim -- --seed ${r.seed} --trace${r.short ? ' --short' : ''}${r.config.mutation ? ` --mutate ${r.config.mutation}` : ''}`,
  ].filter(Boolean).join('\n');
}

