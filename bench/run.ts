// `npm run bench` (tsx): parse the command line, run, exit non-zero on a usage error or a crash.
import { fileURLToPath } from 'node:url';
import { runBench } from './main.js';
import { USAGE, UsageError, parseOptions } from './options.js';

const defaultOut = fileURLToPath(new URL('./results.json', import.meta.url));
try {
  const options = parseOptions(process.argv.slice(2), defaultOut);
  if (options === 'help') {
    process.stdout.write(USAGE + '\n');
  } else {
    await runBench(options, (line) => process.stderr.write(`[bench] ${line}\n`));
  }
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`bench: ${err.message}\n${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
