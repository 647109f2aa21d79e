// Re-find a regression seed for a mutation: the first seed (from --from) whose first violation
// under the mutation is the expected invariant and which passes with the rules as they are.
// node --import tsx test/sim/hunt.ts revert-A "a new leader has every committed record" [from] [to] [--short]
import { MUTATIONS, type Mutation } from './config.js';
import { runSeed } from './run.js';

async function main(): Promise<number> {
  const [mutation, invariant, fromArg, toArg] = process.argv.slice(2);
  const short = process.argv.includes('--short');
  if (!MUTATIONS.includes(mutation as Mutation)) throw new Error(`unknown mutation ${mutation}`);
  const from = Number(fromArg ?? 1);
  const to = Number(toArg ?? from + 5000);
  const started = Date.now();
  for (let seed = from; seed <= to; seed++) {
    if ((seed - from) % 100 === 99) console.log(`… seed ${seed}`);
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
