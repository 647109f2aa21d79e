/** Command line of `npm run bench`, parsed once into one typed object. */

export const WORKLOADS = ['single', 'transport', 'batch', 'consume', 'kafka', 'e2e', 'compression', 'groups', 'failover', 'partitions'] as const;
export type Workload = (typeof WORKLOADS)[number];
export type Mode = 'full' | 'quick' | 'smoke';
export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface BenchOptions {
  mode: Mode;
  out: string;
  only: Workload[];
  /** Measured rounds per workload (each round runs YAK and its comparison back to back). */
  rounds: number;
  /** Length of one timed round of a throughput workload. */
  roundMs: number;
  /** Records read back per consume round. */
  consumeRecords: number;
  /** Records sent per end-to-end round. */
  e2eRecords: number;
  /** SIGKILL rounds and SIGTERM rounds of the failover workload. */
  failoverRounds: number;
  /** Bytes appended per disk round. */
  diskBytes: number;
  /** Partitions the `partitions` workload creates on its own 3-broker cluster (topics of 3). */
  manyPartitions: number;
  /** Seconds the `partitions` workload measures its idle cluster's CPU. */
  idleSeconds: number;
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
  /** When set, brokers run under `node --cpu-prof` and write their profiles here. */
  profileDir: string | null;
  /** Brokers run with --auth-file (one principal); every request carries its token. */
  auth: boolean;
  /** Brokers serve HTTPS (certificates made at start; replication over TLS too); bench connections use TLS. */
  tls: boolean;
  /** Instead of the workloads: single and batch produce on four clusters (plain, auth, tls, auth+tls), rounds interleaved. */
  securityMatrix: boolean;
}

const PROFILES: Record<Mode, Omit<BenchOptions, 'mode' | 'out' | 'only' | 'fsync' | 'fsyncIntervalMs' | 'profileDir' | 'auth' | 'tls' | 'securityMatrix'>> = {
  full: { rounds: 5, roundMs: 3000, consumeRecords: 150_000, e2eRecords: 300, failoverRounds: 3, diskBytes: 128 << 20, manyPartitions: 10_000, idleSeconds: 10 },
  quick: { rounds: 3, roundMs: 1000, consumeRecords: 30_000, e2eRecords: 100, failoverRounds: 1, diskBytes: 32 << 20, manyPartitions: 600, idleSeconds: 2 },
  smoke: { rounds: 1, roundMs: 300, consumeRecords: 3000, e2eRecords: 20, failoverRounds: 1, diskBytes: 4 << 20, manyPartitions: 30, idleSeconds: 1 },
};

export const USAGE = `usage: npm run bench -- [--quick | --smoke] [--out PATH] [--only ${WORKLOADS.join(',')}]
                      [--rounds N] [--fsync always|interval|never] [--profile DIR]
                      [--partitions N] [--auth] [--tls] [--security-matrix]

  --quick      fewer, shorter rounds, 600 partitions (about a minute)
  --smoke      one tiny round of everything, 30 partitions (~25 s; the test suite runs it)
  --out PATH   where the JSON results go (default bench/results.json)
  --only LIST  run only these workloads (batch includes the disk and memory rows; transport starts
               a second cluster with --replication-stream off and compares single and batch produce)
  --rounds N   measured rounds per workload (median of N)
  --partitions N
               partitions the "partitions" workload creates (topics of 3) on a cluster of its own, at an
               open-file limit of 1,024: creation, produce/consume across all, open files, restart after
               a clean stop and after SIGKILL (default 10,000; --quick 600; --smoke 30)
  --fsync P    the brokers' --fsync policy, also used by the raw disk row (default interval)
  --profile D  CPU-profile the brokers (as node --cpu-prof does), .cpuprofile files written to D
  --auth       brokers run with --auth-file (one principal, produce/consume/admin on *, no quota);
               every request sends Authorization: Bearer <principal>:<secret>
  --tls        brokers serve HTTPS with a certificate made at start (openssl, temp folder), https://
               advertised URLs (replication over TLS too); bench connections use TLS
  --security-matrix
               instead of the workloads: single and batch produce on four clusters (plain, auth,
               tls, auth+tls), rounds interleaved; a table of records/s and ratios to plain
               (not with --auth/--tls/--only)`;

export class UsageError extends Error {}

export function parseOptions(argv: readonly string[], defaultOut: string): BenchOptions | 'help' {
  let mode: Mode = 'full';
  const given: Partial<BenchOptions> = {};
  const args = argv.flatMap((a) => (a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a]));
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--help':
      case '-h':
        return 'help';
      case '--quick':
        mode = 'quick';
        break;
      case '--smoke':
        mode = 'smoke';
        break;
      case '--out':
        given.out = value();
        break;
      case '--only':
        given.only = value().split(',').map((w) => {
          if (!(WORKLOADS as readonly string[]).includes(w)) throw new UsageError(`--only: unknown workload '${w}' (have ${WORKLOADS.join(', ')})`);
          return w as Workload;
        });
        break;
      case '--rounds': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1 || n > 100) throw new UsageError('--rounds must be an integer from 1 to 100');
        given.rounds = n;
        break;
      }
      case '--partitions': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 3 || n > 100_000) throw new UsageError('--partitions must be an integer from 3 to 100000');
        given.manyPartitions = n;
        break;
      }
      case '--fsync': {
        const p = value();
        if (p !== 'always' && p !== 'interval' && p !== 'never') throw new UsageError('--fsync must be always, interval or never');
        given.fsync = p;
        break;
      }
      case '--profile':
        given.profileDir = value();
        break;
      case '--auth':
        given.auth = true;
        break;
      case '--tls':
        given.tls = true;
        break;
      case '--security-matrix':
        given.securityMatrix = true;
        break;
      default:
        throw new UsageError(`unknown argument '${a}'`);
    }
  }
  if (given.securityMatrix && (given.auth || given.tls || given.only)) {
    throw new UsageError('--security-matrix runs its own four settings of single and batch produce: leave out --auth, --tls and --only');
  }
  return {
    mode,
    out: defaultOut,
    only: given.securityMatrix ? ['single', 'batch'] : [...WORKLOADS],
    fsync: 'interval',
    fsyncIntervalMs: 1000,
    profileDir: null,
    auth: false,
    tls: false,
    securityMatrix: false,
    ...PROFILES[mode],
    ...given,
  };
}
