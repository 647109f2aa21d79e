import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usage-error.js';

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | undefined>;

/** Options every command takes: where the cluster is and how to talk to it. */
export const CONNECTION_OPTIONS = {
  brokers: { type: 'string', short: 'b' },
  token: { type: 'string' },
  ca: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  retries: { type: 'string' },
  'timeout-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpecs;

export const CONNECTION_HELP = `Connection options (every command; also before the command name):
  -b, --brokers URL,URL   seed brokers, any live one will do (env YAK_BROKERS;
                          default http://127.0.0.1:5001); host:port means http://host:port
      --token P:SECRET    token for brokers started with --auth-file (env YAK_TOKEN)
      --ca FILE           PEM CA that signed the brokers' certificates (env YAK_CA)
      --tls-cert FILE     client certificate for mutual TLS, with --tls-key (env YAK_TLS_CERT)
      --tls-key FILE      its private key (env YAK_TLS_KEY)
      --retries N         retries of a failed request, with backoff (default 10)
      --timeout-ms MS     per request (default 10000; a long poll adds its wait)
  -h, --help              this help`;

/** Value options of CONNECTION_OPTIONS: before the command name they take the next word. */
const CONNECTION_VALUE_FLAGS = new Set(
  Object.entries(CONNECTION_OPTIONS).flatMap(([name, spec]) =>
    spec.type === 'string' ? [`--${name}`, ...('short' in spec ? [`-${spec.short}`] : [])] : [],
  ),
);

/**
 * The command name and the other words: `yak -b URL consume t` and `yak consume t -b URL` are the
 * same command. Returns a null command when there is none.
 */
export function splitCommand(argv: readonly string[]): { command: string | null; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') break;
    if (CONNECTION_VALUE_FLAGS.has(word)) {
      i++;
      continue;
    }
    if (!word.startsWith('-') || word === '-') return { command: word, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { command: null, rest: [...argv] };
}

/** parseArgs with the connection options added, its errors as one-line UsageErrors naming the command. */
export function parseCommandArgs(command: string, args: readonly string[], options: OptionSpecs): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: joinNegativeValues([...args], options),
      options: { ...CONNECTION_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Values, positionals };
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0]!.replace(/\.\s.*$/, '') : String(err);
    throw new UsageError(`${message}; see yak ${command} --help`);
  }
}

/**
 * parseArgs refuses `-o -5` as ambiguous; kcat users write it that way, so a value option followed
 * by a negative number takes it (as `--offset=-5`).
 */
function joinNegativeValues(args: string[], options: OptionSpecs): string[] {
  const valueFlags = new Map<string, string>();
  for (const [name, spec] of Object.entries(options)) {
    if (spec.type !== 'string') continue;
    valueFlags.set(`--${name}`, name);
    if (spec.short) valueFlags.set(`-${spec.short}`, name);
  }
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = valueFlags.get(args[i]!);
    const next = args[i + 1];
    if (name !== undefined && next !== undefined && /^-\d+$/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(args[i]!);
    }
  }
  return out;
}

export function stringValue(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A whole number within [min, max] from an option's text, or a UsageError naming the option. */
export function intOption(values: Values, name: string, min: number, max: number = Number.MAX_SAFE_INTEGER): number | undefined {
  const text = stringValue(values, name);
  if (text === undefined) return undefined;
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}; got '${text}'`);
  }
  return n;
}

/** Exactly `count` positionals, or a UsageError saying what is missing or extra. */
export function expectPositionals(command: string, positionals: string[], names: string[]): string[] {
  if (positionals.length < names.length) throw new UsageError(`missing ${names.slice(positionals.length).join(' ')}; see yak ${command} --help`);
  if (positionals.length > names.length) throw new UsageError(`unexpected argument '${positionals[names.length]}'; see yak ${command} --help`);
  return positionals;
}
