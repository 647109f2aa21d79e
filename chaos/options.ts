import { DEFAULT_FAULTS, FAULT_NAMES, type FaultName } from './faults.js';
import { STORAGE_FAULT_NAMES } from './storage-faults.js';
import { randomSeed } from '../testkit/rng.js';

export interface ChaosOptions {
  seed: number;
  faults: FaultName[];
  /** How long the nemesis keeps starting faults. */
  durationMs: number;
  /** Instead of a duration: exactly this many kill-restart faults (SIGKILL a writing broker, restart it at once). */
  killLoop?: number;
  /**
   * Instead of a duration: go through the fault list (less the faults skipped) this many times, so
   * every kind is injected exactly that often however slow the machine — a timed run on a loaded one
   * can end before some kinds came up.
   */
  rounds?: number;
  brokers: number;
  partitions: number;
  leaseSeconds: number;
  renewSeconds: number;
  minInsync: number;
  fsync: 'always' | 'interval' | 'never';
  segmentBytes: number;
  /** Size of each broker's tmpfs (MiB) when a disk-full fault is in the list. */
  tmpfsMb: number;
  producers: number;
  clientProducers: number;
  consumers: number;
  /** Members of one consumer group (the client's GroupConsumer) reading the topic through every fault; 0: none. */
  groupConsumers: number;
  /** The run's folder (history, broker logs, data); a fresh temp folder when unset. */
  out?: string;
  /** Keep the brokers' data folders even when the run passes. */
  keepData: boolean;
  /** Re-check an existing history file instead of running. */
  check?: string;
  quiet: boolean;
}

export const DEFAULT_OPTIONS: Omit<ChaosOptions, 'seed'> = {
  faults: DEFAULT_FAULTS,
  durationMs: 60_000,
  brokers: 3,
  partitions: 3,
  leaseSeconds: 1,
  renewSeconds: 0.2,
  minInsync: 1,
  fsync: 'interval',
  // Small segments, so runs roll often and recovery meets closed segments too.
  segmentBytes: 64 * 1024,
  // Room for a 10-minute soak's records (a few MiB per broker) while the ballast fills it in well under a second.
  tmpfsMb: 64,
  producers: 3,
  clientProducers: 1,
  consumers: 3,
  groupConsumers: 2,
  keepData: false,
  quiet: false,
};

export const HELP = `npm run chaos -- [flags]

Runs a 3-broker YAK cluster with a real redis-server behind TCP proxies, a workload of producers and
consumers, and a nemesis injecting faults; then heals, reads every replica and checks the history.
Exits 1 on any safety violation (or if the cluster never recovers), printing the seed and history.

  --seed N              replay a run's fault schedule (default: random, printed)
  --faults a,b,...      faults to inject (default: ${DEFAULT_FAULTS.join(',')});
                        "all" adds kill-restart and corrupt-middle; "storage" is ${STORAGE_FAULT_NAMES.join(',')}.
                        Known: ${FAULT_NAMES.join(', ')}
  --seconds S           inject faults for S seconds (default 60)
  --minutes M           the same in minutes (a soak: --minutes 10)
  --kill-loop N         instead: SIGKILL a writing broker and restart it, N times in a row
  --rounds N            instead: inject every fault of the list N times (a shuffled round each), then stop
  --lease-seconds S     broker lease (default 1); --renew-seconds S (default 0.2)
  --min-insync N        (default 1)    --fsync always|interval|never (default interval)
  --segment-bytes N     (default 65536)
  --tmpfs-mb N          with a disk-full fault: each broker's data on its own tmpfs of N MiB (default 64;
                        needs root, else the disk-full faults are skipped, saying why)
  --producers N (3)  --client-producers N (1)  --consumers N (3)  --partitions N (3)
  --group-consumers N   members of one consumer group reading the topic (default 2; 0: none)
  --out DIR             where the history, broker logs and data go (default: a temp folder)
  --keep-data           keep the brokers' data folders even when the run passes
  --check FILE          only run the checker over an existing history.jsonl
  --quiet               print only the report`;

function positive(flag: string, v: string | undefined, integer = true): number {
  const n = Number(v);
  if (v === undefined || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new Error(`${flag} needs a positive ${integer ? 'integer' : 'number'}, got ${v ?? 'nothing'}`);
  return n;
}

function faultList(v: string | undefined): FaultName[] {
  if (v === 'all') return [...FAULT_NAMES];
  if (v === 'default') return DEFAULT_FAULTS;
  if (v === 'storage') return [...STORAGE_FAULT_NAMES];
  const names = (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(FAULT_NAMES as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length) throw new Error(`--faults: unknown fault(s) ${unknown.join(', ') || '(none given)'}; known: ${FAULT_NAMES.join(', ')}`);
  return names as FaultName[];
}

/** Parse the flags; throws an Error naming the bad one. Returns 'help' for --help. */
export function parseChaosArgs(argv: readonly string[]): ChaosOptions | 'help' {
  const o: ChaosOptions = { seed: randomSeed(), ...DEFAULT_OPTIONS };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const next = () => argv[++i];
    switch (flag) {
      case '--help':
      case '-h':
        return 'help';
      case '--seed': {
        const v = next();
        if (!/^\d+$/.test(v ?? '')) throw new Error(`--seed needs a non-negative integer, got ${v ?? 'nothing'}`);
        o.seed = Number(v);
        break;
      }
      case '--faults': o.faults = faultList(next()); break;
      case '--seconds': o.durationMs = positive(flag, next(), false) * 1000; break;
      case '--minutes': o.durationMs = positive(flag, next(), false) * 60_000; break;
      case '--kill-loop': o.killLoop = positive(flag, next()); o.faults = ['kill-restart']; break;
      case '--rounds': o.rounds = positive(flag, next()); break;
      case '--brokers': o.brokers = positive(flag, next()); break;
      case '--partitions': o.partitions = positive(flag, next()); break;
      case '--lease-seconds': o.leaseSeconds = positive(flag, next(), false); break;
      case '--renew-seconds': o.renewSeconds = positive(flag, next(), false); break;
      case '--min-insync': o.minInsync = positive(flag, next()); break;
      case '--fsync': {
        const v = next();
        if (v !== 'always' && v !== 'interval' && v !== 'never') throw new Error(`--fsync must be always, interval or never, got ${v ?? 'nothing'}`);
        o.fsync = v;
        break;
      }
      case '--segment-bytes': o.segmentBytes = positive(flag, next()); break;
      case '--tmpfs-mb': o.tmpfsMb = positive(flag, next()); break;
      case '--producers': o.producers = positive(flag, next()); break;
      case '--client-producers': o.clientProducers = Number(next() ?? NaN); break;
      case '--consumers': o.consumers = positive(flag, next()); break;
      case '--group-consumers': o.groupConsumers = Number(next() ?? NaN); break;
      case '--out': o.out = next(); break;
      case '--keep-data': o.keepData = true; break;
      case '--check': o.check = next(); break;
      case '--quiet': o.quiet = true; break;
      default:
        throw new Error(`unknown flag ${flag} (see --help)`);
    }
  }
  if (!Number.isInteger(o.clientProducers) || o.clientProducers < 0) throw new Error('--client-producers needs a non-negative integer');
  if (!Number.isInteger(o.groupConsumers) || o.groupConsumers < 0) throw new Error('--group-consumers needs a non-negative integer');
  if (o.renewSeconds >= o.leaseSeconds) throw new Error(`--renew-seconds (${o.renewSeconds}) must be below --lease-seconds (${o.leaseSeconds})`);
  return o;
}

/** The command line that repeats this run's schedule. */
export function replayCommand(o: ChaosOptions): string {
  const d = DEFAULT_OPTIONS;
  const flags: [string, unknown, unknown][] = [
    ['--lease-seconds', o.leaseSeconds, d.leaseSeconds],
    ['--renew-seconds', o.renewSeconds, d.renewSeconds],
    ['--min-insync', o.minInsync, d.minInsync],
    ['--fsync', o.fsync, d.fsync],
    ['--segment-bytes', o.segmentBytes, d.segmentBytes],
    ['--tmpfs-mb', o.tmpfsMb, d.tmpfsMb],
    ['--partitions', o.partitions, d.partitions],
    ['--producers', o.producers, d.producers],
    ['--client-producers', o.clientProducers, d.clientProducers],
    ['--consumers', o.consumers, d.consumers],
    ['--group-consumers', o.groupConsumers, d.groupConsumers],
  ];
  const extra = flags.filter(([, v, dv]) => v !== dv).map(([f, v]) => ` ${f} ${String(v)}`).join('');
  const what = o.killLoop
    ? `--kill-loop ${o.killLoop}`
    : `--faults ${o.faults.join(',')} ${o.rounds ? `--rounds ${o.rounds}` : `--seconds ${o.durationMs / 1000}`}`;
  return `npm run chaos -- --seed ${o.seed} ${what}${extra}`;
}
