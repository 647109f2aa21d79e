import { performance } from 'node:perf_hooks';

/**
 * Runs `rounds` rounds; in each, every side runs once, back to back, the starting side rotating
 * from round to round, so slow drift of a shared machine (other jobs, page cache, compaction)
 * hits every side alike and each round's ratio compares neighbours in time.
 */
export async function alternate(rounds: number, sides: (() => Promise<void>)[]): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < sides.length; i++) await sides[(r + i) % sides.length]!();
  }
}

/** Runs `workers` loops of `step` until `ms` have passed; answers the time until the last one finished. */
export async function runFor(ms: number, workers: number, step: (worker: number) => Promise<void>): Promise<number> {
  const start = performance.now();
  const deadline = start + ms;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (performance.now() < deadline) await step(w);
    }),
  );
  return performance.now() - start;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
