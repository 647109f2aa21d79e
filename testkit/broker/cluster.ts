import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerProcess } from './process.js';
import { get } from '../http.js';
import { freePort } from '../ports.js';
import { waitFor } from '../wait.js';
import { RedisServer } from '../redis/server.js';

/** How long a new cluster may take to elect a leader and bring every broker in sync. */
const CLUSTER_START_MS = 45_000;

export interface TestClusterOptions {
  brokers?: number;
  leaseSeconds?: number;
  renewSeconds?: number;
  partitions?: number;
  minInsync?: number;
  extra?: string[];
  /** Token the cluster's own checks send, for brokers started with --auth-file. */
  token?: string;
  /** HTTPS brokers (https:// URLs, so replication is TLS too): PEM paths, and the CA's PEM for the cluster's own checks. */
  tls?: { cert: string; key: string; caFile: string; ca: Buffer };
  /** Open-file limit of every broker process (BrokerProcessOptions.maxOpenFiles). */
  maxOpenFiles?: number;
  /** Run this yak-broker entry instead of the repository's (BrokerProcessOptions.bin). */
  bin?: string;
  /** Give every broker a Kafka listener (--kafka-port) on a free port: see TestCluster.kafkaPorts. */
  kafka?: boolean;
  /** Use this Redis (e.g. a Sentinel world's first master, with --redis-sentinels in `extra`) instead of starting one. */
  redis?: RedisServer;
  /**
   * Advertise each broker by this host name (`--advertised-url <scheme>://NAME:<port>`) instead of
   * 127.0.0.1: brokers then reach each other by it. The name must resolve (see test/helpers/named-broker.mjs).
   */
  advertisedName?: (id: string) => string;
}

/**
 * A real cluster for integration tests: one redis-server and N yak-broker processes on free
 * loopback ports, data in a temp folder that stop() removes.
 */
export class TestCluster {
  private constructor(
    readonly redis: RedisServer,
    readonly brokers: BrokerProcess[],
    readonly dir: string,
    readonly token?: string,
    /** The CA the cluster's own checks trust, for TLS brokers. */
    readonly ca?: Buffer,
  ) {}

  static async start(o: TestClusterOptions = {}): Promise<TestCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'yak-cluster-'));
    const redis = o.redis ?? (await RedisServer.start());
    const cluster = `t${Math.random().toString(36).slice(2, 8)}`;
    const brokers: BrokerProcess[] = [];
    const kafkaPorts = new Map<string, number>();
    for (let i = 1; i <= (o.brokers ?? 3); i++) {
      if (o.kafka) kafkaPorts.set(`b${i}`, await freePort());
      const port = await freePort();
      brokers.push(
        new BrokerProcess({
          id: `b${i}`,
          port,
          dataDir: join(dir, `b${i}`),
          redisUrl: redis.url,
          cluster,
          leaseSeconds: o.leaseSeconds ?? 1,
          renewSeconds: o.renewSeconds ?? 0.25,
          partitions: o.partitions ?? 3,
          minInsync: o.minInsync ?? 1,
          extra: [
            ...(o.tls ? ['--tls-cert', o.tls.cert, '--tls-key', o.tls.key, '--tls-ca', o.tls.caFile] : []),
            ...(o.kafka ? ['--kafka-port', String(kafkaPorts.get(`b${i}`))] : []),
            ...(o.advertisedName ? ['--advertised-url', `${o.tls ? 'https' : 'http'}://${o.advertisedName(`b${i}`)}:${port}`] : []),
            ...(o.extra ?? []),
          ],
          tls: o.tls !== undefined,
          ...(o.maxOpenFiles !== undefined && { maxOpenFiles: o.maxOpenFiles }),
          ...(o.bin !== undefined && { bin: o.bin }),
          ...(process.env.YAK_TEST_LOG_DIR && { logFile: join(process.env.YAK_TEST_LOG_DIR, `${cluster}-b${i}.log`) }),
        }),
      );
    }
    const c = new TestCluster(redis, brokers, dir, o.token, o.tls?.ca);
    c.kafkaPorts = kafkaPorts;
    for (const b of brokers) b.start();
    try {
      // Generous: on a loaded machine (CI runs two files at a time) spawning and the first election
      // (which waits until every broker can have stated its candidacy) took over 20 s once.
      await c.waitForLeader(CLUSTER_START_MS);
      await c.waitForInSync(brokers.length, CLUSTER_START_MS);
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  /** Broker id → its Kafka listener port (with `kafka: true`). */
  kafkaPorts = new Map<string, number>();

  /** Kafka bootstrap servers (`127.0.0.1:port,...`) of every broker. */
  bootstrap(): string[] {
    return [...this.kafkaPorts.values()].map((p) => `127.0.0.1:${p}`);
  }

  urls(): string[] {
    return this.brokers.map((b) => b.url);
  }

  broker(id: string): BrokerProcess {
    const b = this.brokers.find((x) => x.id === id);
    if (!b) throw new Error(`no broker ${id}`);
    return b;
  }

  /** The one broker that reports itself leader (waits until exactly one does, among running ones). */
  async waitForLeader(timeoutMs = 20_000, not?: string): Promise<{ broker: BrokerProcess; epoch: number }> {
    return this.explained(waitFor(
      'exactly one leader',
      async () => {
        const healths = await Promise.all(
          this.brokers.filter((b) => b.running()).map(async (b) => {
            try {
              const h = await get(b.url, '/health', 1000, undefined, this.ca);
              return { b, h: h.body as { role: string; epoch: number } };
            } catch {
              return null;
            }
          }),
        );
        const leaders = healths.filter((x) => x && x.h.role === 'leader' && x.b.id !== not);
        return leaders.length === 1 ? { broker: leaders[0]!.b, epoch: leaders[0]!.h.epoch } : null;
      },
      timeoutMs,
    ));
  }

  /** On failure, the error carries the last lines of every broker's output. */
  private async explained<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      (err as Error).message += `\n${this.describe()}`;
      throw err;
    }
  }

  /** Waits until the leader's view has `n` brokers in sync. */
  async waitForInSync(n: number, timeoutMs = 20_000): Promise<string[]> {
    return this.explained(waitFor(
      `${n} brokers in sync`,
      async () => {
        const { broker } = await this.waitForLeader(timeoutMs);
        const view = (await get(broker.url, '/metadata/cluster', 2000, this.token, this.ca)).body as { brokers: { id: string; in_sync: boolean }[] };
        const members = view.brokers.filter((b) => b.in_sync).map((b) => b.id);
        return members.length >= n ? members : null;
      },
      timeoutMs,
    ));
  }

  describe(): string {
    return this.brokers.map((b) => `--- ${b.id} (${b.running() ? 'running' : `exited ${b.exitCode}`})\n${b.tail(25)}`).join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all(this.brokers.map((b) => b.kill()));
    await this.redis.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
