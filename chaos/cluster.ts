import { join } from 'node:path';
import { BrokerProcess } from '../testkit/broker/process.js';
import { get } from '../testkit/http.js';
import { freePort } from '../testkit/ports.js';
import { sleep } from '../testkit/wait.js';
import { RedisServer } from '../testkit/redis/server.js';
import { snapshotBroker } from './broker-snapshot.js';
import { TcpProxy } from './proxy.js';
import { connectionOwner } from './socket-owner.js';
import { mountTmpfs, unmount, unmountKeepingData, type Tmpfs } from './tmpfs.js';

export interface ChaosClusterOptions {
  /** The run's folder: broker data folders and logs go below it. */
  dir: string;
  brokers: number;
  leaseSeconds: number;
  renewSeconds: number;
  partitions: number;
  minInsync: number;
  fsync: string;
  segmentBytes: number;
  produceTimeoutSeconds: number;
  /** Give each broker's data folder a tmpfs of this many MiB (for the disk-full faults); 0 for none. */
  tmpfsMb: number;
}

/**
 * One broker as the harness sees it. Everything other processes send it goes through `inbound`
 * (its advertised URL), and its own Redis connection through `redisLink`; the harness's probes
 * and final reads use `directUrl`, which no fault touches.
 */
export interface ChaosBroker {
  id: string;
  proc: BrokerProcess;
  inbound: TcpProxy;
  redisLink: TcpProxy;
  /** The advertised URL (through `inbound`): what clients and peers use. */
  url: string;
  directUrl: string;
  dataDir: string;
  /** Its own small file system, when the disk-full faults asked for one and it could be mounted. */
  tmpfs?: Tmpfs;
  /** Set while the harness holds it down on purpose (killed, stopped, paused). */
  down: 'killed' | 'stopped' | 'paused' | null;
}

export interface HealthView {
  role: string;
  epoch: number;
}

/** A redis-server and N brokers on loopback, wired through proxies the nemesis controls. */
export class ChaosCluster {
  private constructor(
    readonly redis: RedisServer,
    readonly brokers: ChaosBroker[],
    readonly options: ChaosClusterOptions,
  ) {}

  /** Why the brokers have no tmpfs although one was asked for (not root, mount refused), if so. */
  tmpfsUnavailable?: string;
  private mounts: Tmpfs[] = [];

  static async start(o: ChaosClusterOptions): Promise<ChaosCluster> {
    // Persistent, so kill-redis comes back with its data; redis-restart-empty wipes it first.
    const redis = await RedisServer.start({ persist: true });
    const brokers: ChaosBroker[] = [];
    const cluster = new ChaosCluster(redis, brokers, o);
    const identify = (remotePort: number, listenPort: number) => connectionOwner(listenPort, remotePort, cluster.pids());
    const name = `chaos${Math.random().toString(36).slice(2, 8)}`;
    const bin = await snapshotBroker(o.dir);
    try {
      const tmpfs = o.tmpfsMb > 0 ? await cluster.mountAll(o) : [];
      for (let i = 1; i <= o.brokers; i++) {
        const id = `b${i}`;
        const port = await freePort();
        const inbound = await TcpProxy.start({ name: `${id}-in`, targetPort: port, identify });
        const redisLink = await TcpProxy.start({ name: `${id}-redis`, targetPort: redis.port });
        const url = `http://127.0.0.1:${inbound.port}`;
        const dataDir = tmpfs[i - 1]?.dataDir ?? join(o.dir, 'data', id);
        const proc = new BrokerProcess({
          id,
          port,
          dataDir,
          redisUrl: `redis://127.0.0.1:${redisLink.port}`,
          cluster: name,
          leaseSeconds: o.leaseSeconds,
          renewSeconds: o.renewSeconds,
          partitions: o.partitions,
          minInsync: o.minInsync,
          logFile: join(o.dir, `${id}.log`),
          bin,
          extra: [
            '--advertised-url', url,
            '--fsync', o.fsync,
            '--segment-bytes', String(o.segmentBytes),
            '--produce-timeout-seconds', String(o.produceTimeoutSeconds),
          ],
        });
        brokers.push({ id, proc, inbound, redisLink, url, directUrl: proc.url, dataDir, ...(tmpfs[i - 1] && { tmpfs: tmpfs[i - 1] }), down: null });
      }
      for (const b of brokers) b.proc.start();
      if (!(await cluster.waitHealthy(30_000))) throw new Error(`the cluster did not come up\n${cluster.describe()}`);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** One tmpfs per broker, or none at all (the reason kept in `tmpfsUnavailable`). */
  private async mountAll(o: ChaosClusterOptions): Promise<Tmpfs[]> {
    const mounted: Tmpfs[] = [];
    try {
      for (let i = 1; i <= o.brokers; i++) mounted.push(await mountTmpfs(join(o.dir, 'data', `b${i}`), o.tmpfsMb));
      this.mounts = mounted;
      return mounted;
    } catch (err) {
      for (const t of mounted) await unmount(t.mountpoint);
      this.tmpfsUnavailable = (err as Error).message;
      return [];
    }
  }

  urls(): string[] {
    return this.brokers.map((b) => b.url);
  }

  /** pid → broker id of every running broker, for telling connections apart. */
  pids(): Map<number, string> {
    const m = new Map<number, string>();
    for (const b of this.brokers) if (b.proc.pid !== undefined && b.proc.running()) m.set(b.proc.pid, b.id);
    return m;
  }

  async health(b: ChaosBroker, timeoutMs = 800): Promise<HealthView | null> {
    if (!b.proc.running() || b.down === 'paused') return null;
    try {
      const h = await get(b.directUrl, '/health', timeoutMs);
      return h.status === 200 ? (h.body as HealthView) : null;
    } catch {
      return null;
    }
  }

  /** The broker that says it leads (the highest epoch if several still think so), or null. */
  async leader(): Promise<ChaosBroker | null> {
    const views = await Promise.all(this.brokers.map(async (b) => ({ b, h: await this.health(b) })));
    const leaders = views.filter((v) => v.h?.role === 'leader').sort((x, y) => y.h!.epoch - x.h!.epoch);
    return leaders[0]?.b ?? null;
  }

  /**
   * Every broker up and answering, one leader, and the leader counting all of them in sync.
   * Returns false (it does not throw) when that takes longer than `timeoutMs`.
   */
  async waitHealthy(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await this.healthyNow()) return true;
      await sleep(100);
    }
    return false;
  }

  private async healthyNow(): Promise<boolean> {
    const views = await Promise.all(this.brokers.map((b) => this.health(b)));
    if (views.some((v) => v === null)) return false;
    const leaders = this.brokers.filter((_, i) => views[i]!.role === 'leader');
    if (leaders.length !== 1) return false;
    try {
      const c = await get(leaders[0]!.directUrl, '/metadata/cluster', 1000);
      const inSync = (c.body as { brokers: { in_sync: boolean }[] }).brokers.filter((x) => x.in_sync).length;
      return inSync >= this.brokers.length;
    } catch {
      return false;
    }
  }

  /** Brokers that exited although the harness did not bring them down: crashes. */
  crashed(): ChaosBroker[] {
    return this.brokers.filter((b) => b.down === null && !b.proc.running());
  }

  /** Undo every fault: network healed, Redis up and running, every broker running. */
  async healAll(): Promise<void> {
    for (const b of this.brokers) {
      b.inbound.heal();
      b.redisLink.heal();
    }
    this.redis.signal('SIGCONT');
    if (!this.redis.running()) await this.redis.launch();
    for (const b of this.brokers) {
      if (b.down === 'paused') b.proc.signal('SIGCONT');
      else if (!b.proc.running()) b.proc.start();
      b.down = null;
    }
  }

  describe(lines = 25): string {
    return this.brokers.map((b) => `--- ${b.id} (${b.proc.running() ? 'running' : `exited ${b.proc.exitCode}`}; inbound ${b.inbound.describe()}, redis ${b.redisLink.describe()})\n${b.proc.tail(lines)}`).join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all(this.brokers.map((b) => b.proc.kill()));
    await Promise.all(this.brokers.flatMap((b) => [b.inbound.close(), b.redisLink.close()]));
    await this.redis.stop();
    for (const t of this.mounts) await unmountKeepingData(t);
    this.mounts = [];
  }
}
