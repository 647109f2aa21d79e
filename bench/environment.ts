import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { TestCluster } from '../testkit/broker/cluster.js';
import { waitFor } from '../testkit/wait.js';
import { RedisServer } from '../testkit/redis/server.js';
import { HttpConnection, type ConnectionSecurity } from './http-conn.js';
import type { BenchOptions } from './options.js';
import { SecurityMaterial, type SecuritySetting } from './security.js';

/** The broker settings of every run; printed with the table. */
export interface BrokerSettings {
  brokers: number;
  partitions: number;
  leaseSeconds: number;
  renewSeconds: number;
  minInsync: number;
  replicaLagSeconds: number;
  fsync: string;
  fsyncIntervalMs: number;
  /** Brokers ran with --auth-file and every request carried a token. */
  auth: boolean;
  /** Brokers served HTTPS (replication over TLS too) and bench connections used TLS. */
  tls: boolean;
}

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  node: string;
  platform: string;
  memoryGiB: number;
  loadAverage: number[];
  redisVersion: string;
}

/**
 * What the workloads run against: a 3-broker YAK cluster (with its own lease Redis, from the test
 * helpers) and a second redis-server for the Redis Streams side, persisting like a durable
 * deployment would (`appendonly yes`, `appendfsync everysec`). Keeping them apart means lease
 * renewals never queue behind benchmark XADDs and the AOF holds only stream data.
 */
export class BenchEnvironment {
  private constructor(
    readonly cluster: TestCluster,
    readonly streamsServer: RedisServer,
    /** For workloads that await each call (ioredis pipelines commands in flight on one connection). */
    readonly redis: Redis,
    readonly settings: BrokerSettings,
    private readonly profiling: boolean,
    /** What every connection to a broker carries (token, CA). */
    readonly connection: ConnectionSecurity,
    private readonly material: SecurityMaterial,
  ) {}

  /** A bench connection to the broker at `url`, with this run's token and TLS. */
  connect(url: string, timeoutMs?: number): Promise<HttpConnection> {
    return HttpConnection.open(url, this.connection, timeoutMs);
  }

  static async start(o: BenchOptions): Promise<BenchEnvironment> {
    const settings = brokerSettings(o, { auth: o.auth, tls: o.tls });
    if (o.profileDir) {
      await mkdir(o.profileDir, { recursive: true });
      // Brokers inherit the environment (restarted ones too); profiles are written on a clean exit.
      const preload = fileURLToPath(new URL('./cpu-profile-preload.mjs', import.meta.url));
      process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import ${preload}`.trim();
      process.env.YAK_CPU_PROFILE_DIR = resolve(o.profileDir);
    }
    const material = await SecurityMaterial.make(settings);
    let streamsServer: RedisServer | undefined;
    let cluster: TestCluster | undefined;
    let redis: Redis | undefined;
    try {
      streamsServer = await RedisServer.start();
      redis = new Redis(streamsServer.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      await enableAppendOnly(redis);
      cluster = await startCluster(settings, material);
    } catch (err) {
      redis?.disconnect();
      await streamsServer?.stop();
      await material.remove();
      throw err;
    }
    return new BenchEnvironment(cluster, streamsServer, redis, settings, o.profileDir !== null, material.connection(settings), material);
  }

  async machine(): Promise<MachineInfo> {
    return machineInfo(this.redis);
  }

  /**
   * Another 3-broker cluster with this run's settings and security, plus `extraFlags` (e.g.
   * `--replication-stream off`), for a workload that compares two configurations side by side.
   * The caller stops it.
   */
  startSiblingCluster(extraFlags: string[], bin?: string): Promise<TestCluster> {
    return startCluster(this.settings, this.material, extraFlags, bin);
  }

  /** A new ioredis connection to the streams server (for workloads that want their own). */
  connectRedis(): Redis {
    return new Redis(this.streamsServer.url, { maxRetriesPerRequest: 1 });
  }

  async stop(): Promise<void> {
    this.redis.disconnect();
    // SIGTERM first: a broker under --cpu-prof writes its profile only on a clean exit.
    if (this.profiling) await Promise.all(this.cluster.brokers.map((b) => b.stop(10_000)));
    await this.cluster.stop();
    await this.streamsServer.stop();
    await this.material.remove();
  }
}

/** The machine, Node and (through `redis`, any of the run's servers) Redis version. */
export async function machineInfo(redis: Redis): Promise<MachineInfo> {
  const info = await redis.info('server');
  return {
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    redisVersion: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
  };
}

/** The settings of every cluster of a run, with this security setting. */
export function brokerSettings(o: BenchOptions, security: SecuritySetting): BrokerSettings {
  return {
    brokers: 3,
    partitions: 3,
    leaseSeconds: 2,
    renewSeconds: 0.5,
    minInsync: 1,
    replicaLagSeconds: 2,
    fsync: o.fsync,
    fsyncIntervalMs: o.fsyncIntervalMs,
    auth: security.auth,
    tls: security.tls,
  };
}

/** A 3-broker cluster (its own lease Redis) with these settings; `material` holds the auth file and certificates. */
export async function startCluster(settings: BrokerSettings, material: SecurityMaterial, extraFlags: string[] = [], bin = process.env.YAK_BENCH_BROKER_BIN): Promise<TestCluster> {
  const secured = material.clusterOptions(settings);
  return TestCluster.start({
    // Another build's broker (a copy of an older broker-runtime/{bin,dist}), for before/after figures in one tree's bench.
    ...(bin ? { bin } : {}),
    brokers: settings.brokers,
    partitions: settings.partitions,
    leaseSeconds: settings.leaseSeconds,
    renewSeconds: settings.renewSeconds,
    minInsync: settings.minInsync,
    // Every broker also speaks Kafka's protocol (the kafka workload; idle otherwise).
    kafka: true,
    token: secured.token,
    tls: secured.tls,
    extra: [
      '--fsync', settings.fsync,
      '--fsync-interval-ms', String(settings.fsyncIntervalMs),
      '--replica-lag-seconds', String(settings.replicaLagSeconds),
      '--log-level', process.env.YAK_BENCH_DEBUG ? 'debug' : 'warn',
      ...secured.extra,
      ...extraFlags,
    ],
  });
}

/** Turns on the AOF at run time (the test helper starts Redis without it) and waits for the initial rewrite. */
async function enableAppendOnly(redis: Redis): Promise<void> {
  await redis.config('SET', 'appendfsync', 'everysec');
  await redis.config('SET', 'appendonly', 'yes');
  await waitFor('the Redis AOF to be enabled', async () => {
    const p = await redis.info('persistence');
    return /aof_enabled:1/.test(p) && /aof_rewrite_in_progress:0/.test(p) && !/aof_rewrite_scheduled:1/.test(p);
  }, 10_000);
}
