import { ConfigError } from './config-error.js';
import { FLAGS_BY_NAME, type FlagSpec } from './flags.js';

export interface Scan {
  flags: Map<string, string>;
  help: boolean;
  version: boolean;
  error?: ConfigError;
}

/**
 * Splits argv into flag values by name (the last of a repeated flag wins). Nothing is validated
 * beyond the flag names and that each flag has its value: that is parse.ts's job.
 * The first problem is kept, not thrown, so that --help and --version still work next to it.
 */
export function scanArgv(argv: readonly string[]): Scan {
  const scan: Scan = { flags: new Map(), help: false, version: false };
  const fail = (e: ConfigError) => {
    scan.error ??= e;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      scan.help = true;
      continue;
    }
    if (arg === '--version' || arg === '-v' || arg === '-V') {
      scan.version = true;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-' || arg === '--') {
      const prev = argv[i - 1];
      const prevSpec = prev?.startsWith('--') ? FLAGS_BY_NAME.get(prev.slice(2)) : undefined;
      const hint =
        prevSpec && !prevSpec.arg
          ? `--${prevSpec.name} takes no separate value (write --${prevSpec.name}=${arg})`
          : 'flags take the form --name value';
      fail(new ConfigError(`unexpected argument ${JSON.stringify(arg)}: ${hint}; see --help`));
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(arg.startsWith('--') ? 2 : 1, eq === -1 ? undefined : eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const long = arg.startsWith('--');
    const spec = long ? FLAGS_BY_NAME.get(name) : undefined;

    if (!spec) {
      const negated = long && name.startsWith('no-') ? FLAGS_BY_NAME.get(name.slice(3)) : undefined;
      if (negated && !negated.arg && inline === undefined) {
        scan.flags.set(negated.name, 'false');
        continue;
      }
      fail(new ConfigError(`unknown flag ${arg.slice(0, eq === -1 ? undefined : eq)}${suggest(name)}; see --help`));
      continue;
    }
    if (!spec.arg) {
      // Boolean: on when alone; never takes the next argument, only `=value`.
      scan.flags.set(spec.name, inline ?? 'true');
      continue;
    }
    if (inline !== undefined) {
      if (inline === '') fail(missingValue(spec));
      else scan.flags.set(spec.name, inline);
      continue;
    }
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--') || next === '-h') {
      fail(missingValue(spec));
      continue;
    }
    scan.flags.set(spec.name, next);
    i++;
  }
  return scan;
}

function missingValue(spec: FlagSpec): ConfigError {
  return new ConfigError(
    `flag --${spec.name} needs a value: --${spec.name} ${spec.arg} or --${spec.name}=${spec.arg}`,
    `--${spec.name}`,
  );
}

/** ` (did you mean --port?)` for a near miss, else ''. */
function suggest(name: string): string {
  if (name.length < 4) return '';
  let best = '';
  let bestDistance = 3;
  for (const known of FLAGS_BY_NAME.keys()) {
    const d = editDistance(name, known);
    if (d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  return best ? ` (did you mean --${best}?)` : '';
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
