import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../ports.js';
import { waitFor } from '../wait.js';
import { RedisServer } from './server.js';

export const MASTER_NAME = 'mymaster';

/** A one-off connection to a Redis server or Sentinel that fails fast and never retries (for checks). */
export async function probe(port: number, password?: string, tls?: SentinelTls): Promise<Redis> {
  const r = new Redis(port, '127.0.0.1', {
    lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, commandTimeout: 2000,
    ...(password ? { password } : {}),
    ...(tls ? { tls: { ca: readFileSync(tls.caFile) } } : {}),
  });
  r.on('error', () => {});
  await r.connect().catch((err: Error) => {
    r.disconnect();
    throw err;
  });
  return r;
}

export interface SentinelWorldOptions {
  replicas?: number;
  sentinels?: number;
  /** Sentinels that must agree the master is down; default a majority. */
  quorum?: number;
  /** Sentinel's down-after-milliseconds: how long the master may not answer before a failover. */
  downAfterMs?: number;
  /** requirepass of the master and replicas (then brokers give it in --redis). */
  password?: string;
  /** requirepass of the Sentinels (then brokers give --redis-sentinel-password). */
  sentinelPassword?: string;
  /** TLS only, everywhere: servers, replication, Sentinels (needs `password`; brokers use rediss://). */
  tls?: SentinelTls;
}

export interface SentinelTls {
  certFile: string;
  keyFile: string;
  caFile: string;
}

/** One real redis-sentinel process on a free loopback port, its config file in a temp folder. */
class SentinelProcess {
  private proc: ChildProcess | null = null;
  constructor(readonly port: number, readonly dir: string, readonly password?: string, readonly tls?: SentinelTls) {}

  async launch(masterPort: number, quorum: number, downAfterMs: number, serverPassword?: string): Promise<void> {
    const conf = join(this.dir, 'sentinel.conf');
    const t = this.tls;
    await writeFile(conf, [
      ...(t
        ? ['port 0', `tls-port ${this.port}`, `tls-cert-file ${t.certFile}`, `tls-key-file ${t.keyFile}`, `tls-ca-cert-file ${t.caFile}`, 'tls-replication yes', 'tls-auth-clients no']
        : [`port ${this.port}`]),
      'bind 127.0.0.1',
      `dir ${this.dir}`,
      `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} ${quorum}`,
      `sentinel down-after-milliseconds ${MASTER_NAME} ${downAfterMs}`,
      `sentinel failover-timeout ${MASTER_NAME} ${Math.max(3000, downAfterMs * 3)}`,
      `sentinel parallel-syncs ${MASTER_NAME} 1`,
      ...(serverPassword ? [`sentinel auth-pass ${MASTER_NAME} ${serverPassword}`] : []),
      // Sentinels ask each other too (votes): with a password, they need it for one another.
      ...(this.password ? [`requirepass ${this.password}`, `sentinel sentinel-pass ${this.password}`] : []),
      '',
    ].join('\n'));
    this.proc = spawn(process.env.REDIS_SENTINEL_BIN ?? 'redis-sentinel', [conf], { stdio: 'ignore' });
    await waitFor(`redis-sentinel on port ${this.port}`, async () => {
      const r = await probe(this.port, this.password, this.tls);
      try {
        return (await r.ping()) === 'PONG';
      } finally {
        r.disconnect();
      }
    }, 10_000);
  }

  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }
}

/**
 * A real Sentinel deployment for integration tests: one master, N replicas and M redis-sentinel
 * processes, all on free loopback ports, data and configs in temp folders that stop() removes.
 */
export class SentinelWorld {
  private constructor(
    /** Every Redis server, master first at start; who is master changes with failovers. */
    readonly servers: RedisServer[],
    private readonly sentinels: SentinelProcess[],
    private readonly dir: string,
    private readonly password?: string,
    private readonly tls?: SentinelTls,
  ) {}

  static async start(o: SentinelWorldOptions = {}): Promise<SentinelWorld> {
    const dir = await mkdtemp(join(tmpdir(), 'yak-sentinel-'));
    const servers: RedisServer[] = [];
    const sentinels: SentinelProcess[] = [];
    const world = new SentinelWorld(servers, sentinels, dir, o.password, o.tls);
    try {
      const common = world.serverArgs();
      const auth = o.tls ? { tls: { ...o.tls, password: o.password ?? 'tls-needs-a-password' } } : o.password ? { password: o.password } : {};
      const master = await RedisServer.start({ ...auth, extraArgs: common });
      servers.push(master);
      for (let i = 0; i < (o.replicas ?? 2); i++) servers.push(await RedisServer.start({ ...auth, extraArgs: [...common, '--replicaof', '127.0.0.1', String(master.port)] }));
      const n = o.sentinels ?? 3;
      for (let i = 0; i < n; i++) {
        const s = new SentinelProcess(await freePort(), join(dir, `s${i}`), o.sentinelPassword, o.tls);
        await mkdir(s.dir, { recursive: true });
        await s.launch(master.port, o.quorum ?? Math.floor(n / 2) + 1, o.downAfterMs ?? 1000, o.password);
        sentinels.push(s);
      }
      await world.waitForReplicasKnown(o.replicas ?? 2);
      // Synced, not only known: until then WAIT on the master counts no replica.
      await waitFor(`${o.replicas ?? 2} replicas online`, async () => {
        const r = await probe(master.port, o.password, o.tls);
        try {
          return (await r.info('replication')).split('\n').filter((l) => /^slave\d+:.*state=online/.test(l)).length >= (o.replicas ?? 2);
        } finally {
          r.disconnect();
        }
      }, 20_000, 100);
    } catch (err) {
      await world.stop();
      throw err;
    }
    return world;
  }

  /**
   * Replicas drop a master that stops answering after 2 s (not the default 60): the test of a paused
   * replica needs the master to count it gone soon. A master starts a replica's full sync at once
   * (repl-diskless-sync-delay 0; the default 5 s waits for more replicas to share one transfer): a
   * world's start, and every failover whose new master waits for the old one to rejoin as its
   * replica, took 5 s longer. With TLS, replication is TLS too.
   */
  private serverArgs(): string[] {
    return [
      '--repl-timeout', '2', '--repl-ping-replica-period', '1', '--repl-diskless-sync-delay', '0',
      ...(this.tls ? ['--tls-replication', 'yes'] : []),
      ...(this.password ? ['--masterauth', this.password] : []),
    ];
  }

  /** Start a killed server again, as a replica of the master on `masterPort` (what Sentinel would make of it anyway). */
  async relaunchAsReplica(server: RedisServer, masterPort: number): Promise<void> {
    await server.launch([...this.serverArgs(), '--replicaof', '127.0.0.1', String(masterPort)]);
  }

  /** `127.0.0.1:p1,127.0.0.1:p2,…`: the value of --redis-sentinels. */
  sentinelList(): string {
    return this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',');
  }

  /** The master's port as the first Sentinel that answers sees it. */
  async masterPort(): Promise<number> {
    for (const s of this.sentinels) {
      let r: Redis | undefined;
      try {
        r = await probe(s.port, s.password, s.tls);
        const addr = (await r.call('SENTINEL', 'get-master-addr-by-name', MASTER_NAME)) as [string, string] | null;
        if (addr) return Number(addr[1]);
      } catch {
        /* the next Sentinel */
      } finally {
        r?.disconnect();
      }
    }
    throw new Error('no Sentinel answered');
  }

  async master(): Promise<RedisServer> {
    return this.server(await this.masterPort());
  }

  server(port: number): RedisServer {
    const s = this.servers.find((x) => x.port === port);
    if (!s) throw new Error(`no Redis server on port ${port}`);
    return s;
  }

  /** Waits until every Sentinel names a master other than `oldPort`, and that server says it is master. */
  async waitForFailover(oldPort: number, timeoutMs = 30_000): Promise<RedisServer> {
    return waitFor(`a Sentinel failover away from port ${oldPort}`, async () => {
      const port = await this.masterPort();
      if (port === oldPort) return null;
      const r = await probe(port, this.password, this.tls);
      try {
        const info = await r.info('replication');
        return info.includes('role:master') ? this.server(port) : null;
      } finally {
        r.disconnect();
      }
    }, timeoutMs, 100);
  }

  /**
   * Every Sentinel sees at least `n` replicas of the current master that it could promote: flagged
   * plain `slave` (not s_down or disconnected) with their link to the master up. Right after a
   * failover the Sentinels still learn the new master's replicas (from its INFO, every 10 s when
   * nothing fails); a master killed before that has no replica they would promote, and no failover
   * follows (seen in CI: a second failover that never came in 30 s).
   */
  async waitForPromotableReplicas(n: number, timeoutMs = 30_000): Promise<void> {
    for (const s of this.sentinels) {
      await waitFor(`Sentinel ${s.port} to see ${n} promotable replicas`, async () => {
        const r = await probe(s.port, s.password, s.tls);
        try {
          const replicas = (await r.call('SENTINEL', 'replicas', MASTER_NAME)) as string[][];
          const fields = replicas.map((flat) => new Map(flat.map((v, i, a) => [v, a[i + 1]] as const).filter((_, i) => i % 2 === 0)));
          return fields.filter((f) => f.get('flags') === 'slave' && f.get('master-link-status') === 'ok').length >= n;
        } finally {
          r.disconnect();
        }
      }, timeoutMs, 200);
    }
  }

  /** Every Sentinel knows the `n` replicas (they learn them from the master's INFO). */
  private async waitForReplicasKnown(n: number): Promise<void> {
    for (const s of this.sentinels) {
      await waitFor(`Sentinel ${s.port} to know ${n} replicas`, async () => {
        const r = await probe(s.port, s.password, s.tls);
        try {
          const replicas = (await r.call('SENTINEL', 'replicas', MASTER_NAME)) as unknown[];
          return replicas.length >= n;
        } finally {
          r.disconnect();
        }
      }, 20_000, 200);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.sentinels.map((s) => s.kill()));
    await Promise.all(this.servers.map((s) => s.stop()));
    await rm(this.dir, { recursive: true, force: true });
  }
}
