import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BrokerRunSettings, ClusterSettings } from '../../../shared/cluster-api.js';
import { freePort, portIsFree } from './free-port.js';
import { ManagedProcess, STOP_GRACE_MS, type ProcessHooks } from './managed-process.js';
import { brokerSpec, brokerUrl, redisSpec } from './specs.js';

export interface BrokerProcess {
  id: string;
  port: number;
  /** Its Kafka listener's port (0 until assigned), kept across restarts like `port`. */
  kafkaPort: number;
  url: string;
  process: ManagedProcess;
  /** The settings of its latest start (null before the first): what the process runs with. */
  runsWith: BrokerRunSettings | null;
}

/** A port of a broker's that another program took while the broker was down, and its new one. */
export interface PortMove {
  listener: 'http' | 'kafka';
  from: number;
  to: number;
}

/** The embedded Redis's port is held by another program: Redis cannot start on it again. */
export class RedisPortTakenError extends Error {
  constructor(readonly port: number) {
    super(`port ${port} of the embedded Redis is taken by another program`);
  }
}

export interface ClusterProcessesOptions {
  dataDir: string;
  brokerEntry: string;
  execPath: string;
  hooks: ProcessHooks;
  stopGraceMs?: number;
}

/**
 * The cluster's child processes: the embedded Redis (if any) and the brokers, each with a port
 * chosen once and kept across its restarts (clients and the other brokers know it by that URL).
 */
export class ClusterProcesses {
  redis: ManagedProcess | null = null;
  private redisPort: number | null = null;
  readonly brokers = new Map<string, BrokerProcess>();
  private readonly ports = new Set<number>();
  private readonly grace: number;

  constructor(private readonly options: ClusterProcessesOptions) {
    this.grace = options.stopGraceMs ?? STOP_GRACE_MS;
  }

  brokerDataDir(id: string): string {
    return join(this.options.dataDir, 'brokers', id);
  }

  redisDataDir(): string {
    return join(this.options.dataDir, 'redis');
  }

  /** Starts (or restarts) the embedded redis-server; returns its URL. */
  async startRedis(command: string): Promise<string> {
    // The brokers know Redis by its URL (--redis): a restart has to be on the same port, and when
    // another program holds it the caller says so rather than let redis-server exit on the bind.
    if (this.redisPort !== null && !this.redis?.alive && !(await portIsFree(this.redisPort))) throw new RedisPortTakenError(this.redisPort);
    this.redisPort ??= await this.allocate();
    await mkdir(this.redisDataDir(), { recursive: true });
    const spec = redisSpec(command, this.redisPort, this.redisDataDir());
    if (this.redis) this.redis.spec = spec;
    else this.redis = new ManagedProcess(spec, this.options.hooks);
    this.redis.start();
    return `redis://127.0.0.1:${this.redisPort}`;
  }

  /** Registers a broker, not started and without a port yet (assignPorts gives it one). */
  register(id: string): BrokerProcess {
    const existing = this.brokers.get(id);
    if (existing) return existing;
    const spec = { name: id, kind: 'broker' as const, command: this.options.execPath, args: [], env: {}, port: null };
    const entry: BrokerProcess = { id, port: 0, kafkaPort: 0, url: '', process: new ManagedProcess(spec, this.options.hooks), runsWith: null };
    this.brokers.set(id, entry);
    return entry;
  }

  /** Drops a broker that is not running (a running one goes through removeBroker). */
  unregister(id: string): void {
    const entry = this.brokers.get(id);
    if (!entry || entry.process.alive) return;
    this.brokers.delete(id);
    this.ports.delete(entry.port);
    this.ports.delete(entry.kafkaPort);
  }

  /**
   * Starts a broker with the current settings (they may have changed since its last run), on the
   * ports it had. A port another program took while the broker was down (its listen would fail
   * with EADDRINUSE) is replaced by a free one: the moves are returned, for the activity log.
   */
  async startBroker(id: string, redisUrl: string, settings: ClusterSettings, authFile: string | null = null): Promise<PortMove[]> {
    const entry = this.brokers.get(id);
    if (!entry || entry.process.alive) return [];
    const moves: PortMove[] = [];
    if (entry.port !== 0 && !(await portIsFree(entry.port))) {
      const from = entry.port;
      entry.port = await this.reallocate(from);
      moves.push({ listener: 'http', from, to: entry.port });
    }
    if (entry.kafkaPort !== 0 && !(await portIsFree(entry.kafkaPort))) {
      const from = entry.kafkaPort;
      entry.kafkaPort = await this.reallocate(from);
      moves.push({ listener: 'kafka', from, to: entry.kafkaPort });
    }
    if (entry.port === 0) entry.port = await this.allocate();
    entry.url = brokerUrl(entry.port);
    if (entry.kafkaPort === 0) entry.kafkaPort = await this.allocate();
    const dataDir = this.brokerDataDir(id);
    await mkdir(dataDir, { recursive: true });
    entry.process.spec = brokerSpec({
      id,
      port: entry.port,
      kafkaPort: entry.kafkaPort,
      dataDir,
      redisUrl,
      settings,
      brokerEntry: this.options.brokerEntry,
      execPath: this.options.execPath,
      authFile,
    });
    entry.runsWith = { leaseSeconds: settings.leaseSeconds, renewSeconds: settings.renewSeconds, partitions: settings.partitions, minInsync: settings.minInsync };
    entry.process.start();
    return moves;
  }

  /** Whether another program holds one of a stopped broker's ports (its start failed on it). */
  async brokerPortTaken(id: string): Promise<boolean> {
    const entry = this.brokers.get(id);
    if (!entry || entry.process.alive) return false;
    for (const port of [entry.port, entry.kafkaPort]) if (port !== 0 && !(await portIsFree(port))) return true;
    return false;
  }

  async removeBroker(id: string): Promise<void> {
    const entry = this.brokers.get(id);
    if (!entry) return;
    await entry.process.stop(this.grace);
    this.brokers.delete(id);
    this.ports.delete(entry.port);
    this.ports.delete(entry.kafkaPort);
  }

  /** Brokers first (they would only log Redis errors while Redis goes), then Redis. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.brokers.values()].map((b) => b.process.stop(this.grace)));
    await this.redis?.stop(this.grace);
  }

  /** Forget the ports: a fresh start picks new free ones (after a stop they may have been taken). */
  releasePorts(): void {
    this.ports.clear();
    this.redisPort = null;
    for (const entry of this.brokers.values()) {
      entry.port = 0;
      entry.kafkaPort = 0;
      entry.url = '';
    }
  }

  /** Gives brokers without a port (after releasePorts) a fresh one. */
  async assignPorts(): Promise<void> {
    for (const entry of this.brokers.values()) {
      if (entry.port !== 0) continue;
      entry.port = await this.allocate();
      entry.kafkaPort = await this.allocate();
      entry.url = brokerUrl(entry.port);
      entry.process.spec = { ...entry.process.spec, port: entry.port };
    }
  }

  /** Every pid still alive: what quit must leave behind is nothing. */
  livePids(): number[] {
    const all = [this.redis, ...[...this.brokers.values()].map((b) => b.process)];
    return all.flatMap((p) => (p?.pid ? [p.pid] : []));
  }

  killAllNow(): void {
    for (const b of this.brokers.values()) b.process.killNow();
    this.redis?.killNow();
  }

  get gracePeriodMs(): number {
    return this.grace;
  }

  /** A new port in place of `old`, which another program holds now: it is no longer ours. */
  private async reallocate(old: number): Promise<number> {
    const port = await this.allocate();
    this.ports.delete(old);
    return port;
  }

  private async allocate(): Promise<number> {
    const port = await freePort(this.ports);
    this.ports.add(port);
    return port;
  }
}
