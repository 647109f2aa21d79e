import { recheck, runChaos } from './harness.js';
import { HELP, parseChaosArgs } from './options.js';

/** `npm run chaos -- [flags]`: returns the exit code (0 pass, 1 violations, 2 bad flags). */
export async function main(argv: readonly string[]): Promise<number> {
  let options;
  try {
    options = parseChaosArgs(argv);
  } catch (err) {
    process.stderr.write(`chaos: ${(err as Error).message}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (options.check) {
    const r = await recheck(options.check);
    process.stdout.write(r.text + '\n');
    return r.passed ? 0 : 1;
  }
  const quiet = options.quiet;
  const run = await runChaos(options, (line) => {
    if (!quiet) process.stdout.write(`[chaos ${new Date().toISOString().slice(11, 23)}] ${line}\n`);
  });
  process.stdout.write(run.text + '\n');
  return run.passed ? 0 : 1;
}
