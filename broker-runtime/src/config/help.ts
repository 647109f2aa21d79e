import { FLAGS } from './flags.js';

interface Row {
  flag: string;
  env: string;
  def: string;
  help: string;
}

/** The text `yak-broker --help` prints: every flag with its env twin and default, in aligned columns. */
export function helpText(): string {
  const rows: Row[] = FLAGS.map((f) => ({
    flag: f.arg ? `--${f.name} ${f.arg}` : `--${f.name}`,
    env: f.envHelp ?? f.env.join(', '),
    def: f.default,
    help: f.help,
  }));
  rows.push(
    { flag: '-h, --help', env: '', def: '', help: 'print this help and exit' },
    { flag: '-v, --version', env: '', def: '', help: 'print the version and exit' },
  );
  const header: Row = { flag: 'FLAG', env: 'ENV', def: 'DEFAULT', help: 'MEANING' };
  const all = [header, ...rows];
  const wFlag = Math.max(...all.map((r) => r.flag.length));
  const wEnv = Math.max(...all.map((r) => r.env.length));
  const wDef = Math.max(...all.map((r) => r.def.length));
  const line = (r: Row) =>
    `  ${r.flag.padEnd(wFlag)}  ${r.env.padEnd(wEnv)}  ${r.def.padEnd(wDef)}  ${r.help}`.trimEnd();

  return [
    'yak-broker: one YAK broker (a small Kafka-like replicated log with a REST API)',
    '',
    'Usage: yak-broker [flags]',
    '       yak-broker hash-secret < secret-file   (prints the secret_hash of an --auth-file principal)',
    '',
    'Every flag also reads its environment twin; a flag wins over the environment.',
    'Flags take `--flag value` or `--flag=value`. Seconds may be fractional (0.5).',
    'A boolean flag is on when given alone; --flag=false or --no-flag turns it off.',
    '',
    ...all.map(line),
    '',
    '(*) or REDIS_HOST and REDIS_PORT (either alone defaults the other to localhost / 6379).',
    'When --host is 0.0.0.0 or ::, the default advertised URL uses the machine\'s hostname instead.',
    'A bad flag or value stops the broker with one line naming it and exit code 2.',
    'On a --host other than loopback, --auth-file or --insecure is required (protected mode).',
    '',
  ].join('\n');
}
