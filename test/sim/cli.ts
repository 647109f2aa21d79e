import { MUTATIONS, type Mutation } from './config.js';
import { likelyBug } from './classify.js';
import { report } from './report.js';
import { runSeed, type RunResult } from './run.js';

/**
 * npm run sim -- [--seeds N] [--from S] [--seed S] [--trace] [--quiet] [--short] [--mutate name] [--streams K]
 *
 * Runs seeds from S (default 1) through S+N-1, or one seed; prints every failure with its seed,
 * the broken invariant, the trace leading to it and the command that replays it. Exit code 1 if
 * any seed failed. --mutate breaks a rule on purpose (the checker must notice); --short runs the
 * shorter runs of the npm test subset; --streams K carries frames on replication streams with up to
 * K in flight per follower (FollowerSession pipelining; 1, the default, is a POST per frame).
 */
interface Args {
  seeds: number;
  from: number;
  seed: number | null;
  trace: boolean;
  quiet: boolean;
  short: boolean;
  mutation: Mutation | null;
  streams: number;
}

function parse(argv: string[]): Args {
  const a: Args = { seeds: 200, from: 1, seed: null, trace: false, quiet: false, short: false, mutation: null, streams: 1 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const v = Number(argv[++i]);
      if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${flag} needs a non-negative integer`);
      return v;
    };
    if (flag === '--seeds') a.seeds = value();
    else if (flag === '--from') a.from = value();
    else if (flag === '--seed') a.seed = value();
    else if (flag === '--trace') a.trace = true;
    else if (flag === '--quiet') a.quiet = true;
    else if (flag === '--short') a.short = true;
    else if (flag === '--streams') a.streams = Math.max(1, value());
    else if (flag === '--mutate') {
      const n = String(argv[++i] ?? '');
      if (!(MUTATIONS as readonly string[]).includes(n)) throw new Error(`--mutate: unknown mutation '${n}' (${MUTATIONS.join(', ')})`);
      a.mutation = n as Mutation;
    }
    else throw new Error(`unknown flag ${flag} (use --seeds N, --from S, --seed S, --trace, --quiet, --short, --mutate, --streams K)`);
  }
  return a;
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  const seeds = args.seed !== null ? [args.seed] : Array.from({ length: args.seeds }, (_, i) => args.from + i);
  const started = Date.now();
  let steps = 0;
  let simMs = 0;
  const failed: RunResult[] = [];
  for (const seed of seeds) {
    const r = await runSeed(seed, { trace: args.trace, short: args.short, config: { mutation: args.mutation, streams: args.streams } });
    steps += r.steps;
    simMs += r.simMs;
    if (args.seed !== null) {
      if (args.trace) console.log(r.trace);
      console.log(`seed ${seed}: ${r.ok ? 'ok' : 'FAILED'} — ${r.steps} steps, ${r.simMs} simulated ms, stats ${JSON.stringify(r.stats)}, faults ${JSON.stringify(r.faults)}`);
    }
    if (!r.ok) {
      failed.push(r);
      console.log(report(r, args.seed !== null || !args.quiet));
    }
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  const byBug = new Map<string, number>();
  for (const f of failed) byBug.set(likelyBug(f), (byBug.get(likelyBug(f)) ?? 0) + 1);
  if (byBug.size) console.log(`failures by likely bug: ${[...byBug].map(([b, n]) => `${b}: ${n}`).join('; ')}`);
  const mode = args.mutation ? ` mutated ${args.mutation}` : '';
  console.log(`${seeds.length} seed(s)${mode}, ${steps} steps, ${(simMs / 3_600_000).toFixed(2)} simulated hours in ${secs} s: ${failed.length} failed${failed.length ? ` (${failed.map((f) => f.seed).join(', ')})` : ''}`);
  process.exitCode = failed.length ? 1 : 0;
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 2;
});
