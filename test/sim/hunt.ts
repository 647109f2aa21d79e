// Re-find a regression seed for a mutation: the first seed (from --from) whose first violation
// under the mutation is the expected invariant and which passes with the rules as they are.
// node --import tsx test/sim/hunt.ts revert-A "a new leader has every committed record" [from] [to] [--short] [--fault KIND]
// --fault KIND runs only the seeds whose faults include KIND (config.ts, FaultKind): the targeted
// faults make a bug's precondition likely (lossy-follower for revert-E).
import { configFor, MUTATIONS, type FaultKind, type Mutation } from './config.js';
import { runSeed } from './run.js';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const faultAt = args.indexOf('--fault');
  const fault = faultAt >= 0 ? (args.splice(faultAt, 2)[1] as FaultKind) : null;
  const [mutation, invariant, fromArg, toArg] = args.filter((a) => a !== '--short');
  const short = process.argv.includes('--short');
  if (!MUTATIONS.includes(mutation as Mutation)) throw new Error(`unknown mutation ${mutation}`);
  const from = Number(fromArg ?? 1);
  const to = Number(toArg ?? from + 5000);
  const started = Date.now();
  let ran = 0;
  for (let seed = from; seed <= to; seed++) {
    if (fault && !((configFor(seed).faults[fault] ?? 0) > 0)) continue;
    if (++ran % 25 === 0) console.log(`… seed ${seed} (${ran} run, ${Math.round((Date.now() - started) / 1000)} s)`);
    const broken = await runSeed(seed, { short, config: { mutation: mutation as Mutation } });
    const first = broken.violations[0]?.invariant;
    if (!first) continue;
    if (invariant && first !== invariant) {
      console.log(`seed ${seed}: ${first} (not the one sought)`);
      continue;
    }
    const fixed = await runSeed(seed, { short });
    if (!fixed.ok) {
      console.log(`seed ${seed}: fails without the mutation too (${fixed.violations[0]?.invariant})`);
      continue;
    }
    console.log(`FOUND ${mutation} seed ${seed}: ${first} (${Math.round((Date.now() - started) / 1000)} s)`);
    return 0;
  }
  console.log(`none in ${from}..${to} (${Math.round((Date.now() - started) / 1000)} s)`);
  return 1;
}

void main().then((code) => process.exit(code));
