import { FLAGS } from './flags.js';

interface Row {
  flag: string;
  env: string;
  def: string;
  help: string;
}

const WIDTH = 100;
const MEANING_INDENT = '      ';

/**
 * The text `yak-broker --help` prints, within WIDTH columns: per flag one line with the flag, its
 * environment twins and its default in aligned columns, and the meaning indented below it.
 */
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
  const header: Row = { flag: 'FLAG', env: 'ENV', def: 'DEFAULT', help: '' };
  const all = [header, ...rows];
  const wFlag = Math.max(...all.map((r) => r.flag.length));
  const wEnv = Math.max(...all.map((r) => r.env.length));
  const line = (r: Row) => [
    `  ${r.flag.padEnd(wFlag)}  ${r.env.padEnd(wEnv)}  ${r.def}`.trimEnd(),
    ...wrap(r.help, WIDTH - MEANING_INDENT.length).map((l) => MEANING_INDENT + l),
  ];

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
    ...all.flatMap(line),
    '',
    '(*) or REDIS_HOST and REDIS_PORT (either alone defaults the other to localhost / 6379).',
    'When --host is 0.0.0.0 or ::, the default advertised URL uses the machine\'s hostname instead.',
    'A bad flag or value stops the broker with one line naming it and exit code 2.',
    'On a --host other than loopback, --auth-file or --insecure is required (protected mode).',
    '',
  ].join('\n');
}

function wrap(text: string, width: number): string[] {
  if (!text) return [];
  const out: string[] = [];
  let current = '';
  for (const word of text.split(' ')) {
    if (current && current.length + 1 + word.length > width) {
      out.push(current);
      current = word;
    } else current = current ? `${current} ${word}` : word;
  }
  if (current) out.push(current);
  return out;
}
