import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { YakClient, YakClientError, YakRetriesExhaustedError } from '../../../broker-runtime/src/client/index.js';
import { BROKER_BIN, BrokerProcess } from '../../../testkit/broker/process.js';
import { makeTestCerts, type TestCerts } from '../../../testkit/certs.js';
import { freePort } from '../../../testkit/ports.js';
import { waitFor } from '../../../testkit/wait.js';
import { RedisServer } from '../../../testkit/redis/server.js';

/**
 * TLS against real processes (issue 9): brokers serving HTTPS to clients and to each other,
 * mutual TLS, and Redis over TLS with a password. Certificates are made with the openssl
 * command line in a temp folder, as docs/security.md shows.
 */
const TOPIC = 'secure';
const REDIS_PASSWORD = 's3cret-Redis-pw';

interface Pems {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** One HTTPS GET with exactly these TLS settings (no retries): the status and JSON body, or the TLS error. */
function httpsGet(url: string, pems: Pems): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ...pems, agent: false, timeout: 3000 }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

class TlsCluster {
  private constructor(
    readonly brokers: BrokerProcess[],
    readonly redis: RedisServer,
    private readonly dir: string,
    /** What the test's own probes present: the CA, and with mutual TLS a client certificate. */
    readonly probe: Pems,
  ) {}

  static async start(certs: TestCerts, o: { mutual: boolean; redis: RedisServer }): Promise<TlsCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'yak-tls-'));
    const cluster = `tls${Math.random().toString(36).slice(2, 8)}`;
    const brokers: BrokerProcess[] = [];
    for (let i = 1; i <= 3; i++) {
      brokers.push(
        new BrokerProcess({
          id: `b${i}`,
          port: await freePort(),
          dataDir: join(dir, `b${i}`),
          redisUrl: o.redis.url,
          cluster,
          leaseSeconds: 1,
          renewSeconds: 0.25,
          partitions: 2,
          tls: true,
          extra: ['--tls-cert', certs.serverCert, '--tls-key', certs.serverKey, '--tls-ca', certs.caCert, ...(o.mutual ? ['--tls-client-auth'] : [])],
        }),
      );
    }
    const probe: Pems = {
      ca: readFileSync(certs.caCert),
      ...(o.mutual ? { cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) } : {}),
    };
    const c = new TlsCluster(brokers, o.redis, dir, probe);
    for (const b of brokers) b.start();
    try {
      await c.waitForInSync(3);
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  urls(): string[] {
    return this.brokers.map((b) => b.url);
  }

  async leader(): Promise<BrokerProcess> {
    return this.explained(waitFor('exactly one leader', async () => {
      const roles = await Promise.all(this.brokers.map((b) => httpsGet(`${b.url}/health`, this.probe).then((h) => h.body.role as string, () => null)));
      const leaders = this.brokers.filter((_, i) => roles[i] === 'leader');
      return leaders.length === 1 ? leaders[0] : null;
    }, 20_000));
  }

  async waitForInSync(n: number): Promise<void> {
    await this.explained(waitFor(`${n} brokers in sync`, async () => {
      const leader = await this.leader();
      const view = (await httpsGet(`${leader.url}/metadata/cluster`, this.probe)).body as { brokers: { in_sync: boolean; url: string }[] };
      return view.brokers.filter((b) => b.in_sync && b.url.startsWith('https://')).length >= n;
    }, 20_000));
  }

  /** Every broker's high-water marks equal the leader's (replication reached every follower). */
  async waitForEqualHwm(): Promise<Record<string, number>> {
    return this.explained(waitFor('followers\' high-water marks reach the leader\'s', async () => {
      const views = await Promise.all(this.brokers.map((b) => httpsGet(`${b.url}/topics`, this.probe)));
      const marks = views.map((v) => {
        const topic = (v.body.topics as { name: string; partitions: { partition: number; high_watermark: number }[] }[]).find((t) => t.name === TOPIC);
        return JSON.stringify(topic?.partitions.map((p) => [p.partition, p.high_watermark]) ?? null);
      });
      return marks.every((m) => m === marks[0] && m !== 'null') ? (Object.fromEntries(JSON.parse(marks[0]!)) as Record<string, number>) : null;
    }, 20_000));
  }

  output(): string {
    return this.brokers.map((b) => b.output.join('\n')).join('\n');
  }

  private async explained<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      (err as Error).message += '\n' + this.brokers.map((b) => `--- ${b.id}\n${b.tail(20)}`).join('\n');
      throw err;
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.brokers.map((b) => b.kill()));
    await this.redis.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Produces `n` records through `client` and reads them back from every broker, in order. */
async function produceAndConsumeEverywhere(client: YakClient, cluster: TlsCluster, n: number): Promise<void> {
  const acked = [];
  for (let i = 0; i < n; i++) acked.push(await client.produce(TOPIC, { key: `k${i}`, payload: { i } }));
  const hwm = await cluster.waitForEqualHwm();
  for (const b of cluster.brokers) {
    const seen: number[] = [];
    for (const [partition, mark] of Object.entries(hwm)) {
      const answer = await client.consume<{ i: number }>(TOPIC, Number(partition), 0, { broker: b.url, max: 1000 });
      assert.equal(answer.records.length, mark, `${b.id} partition ${partition}`);
      seen.push(...answer.records.map((r) => r.payload.i));
    }
    assert.deepEqual(seen.sort((x, y) => x - y), acked.map((_, i) => i), `${b.id} holds every acknowledged record`);
  }
}

let certs: TestCerts;
before(() => {
  certs = makeTestCerts();
});
after(() => certs?.remove());

describe('TLS on REST and replication, Redis over TLS with a password', () => {
  let cluster: TlsCluster;
  before(async () => {
    const redis = await RedisServer.start({
      tls: { certFile: certs.serverCert, keyFile: certs.serverKey, caFile: certs.caCert, password: REDIS_PASSWORD },
    });
    cluster = await TlsCluster.start(certs, { mutual: false, redis });
  });
  after(() => cluster?.stop());

  test('three brokers advertise https:// URLs, elect a leader through rediss:// and keep all three in sync', async () => {
    assert.match(cluster.redis.url, /^rediss:\/\/:.+@127\.0\.0\.1:\d+$/);
    const leader = await cluster.leader();
    const view = (await httpsGet(`${leader.url}/metadata/cluster`, cluster.probe)).body;
    assert.deepEqual(view.brokers.map((b: { url: string }) => b.url).sort(), cluster.urls().sort());
    assert.ok(view.brokers.every((b: { in_sync: boolean }) => b.in_sync));
  });

  test('a client with the cluster\'s CA produces and consumes, and every follower\'s high-water marks reach the leader\'s', async () => {
    const client = new YakClient({ brokers: cluster.urls(), ca: readFileSync(certs.caCert) });
    await produceAndConsumeEverywhere(client, cluster, 30);
  });

  test('a plain-HTTP request to a TLS broker gets no answer', async () => {
    const plain = cluster.brokers[0]!.url.replace('https://', 'http://');
    await assert.rejects(fetch(`${plain}/health`, { signal: AbortSignal.timeout(3000) }));
  });

  test('a client without the CA is refused with a certificate error, and nothing is written', async () => {
    await assert.rejects(httpsGet(`${cluster.brokers[0]!.url}/health`, {}), (err: NodeJS.ErrnoException) => {
      assert.match(String(err.code), /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
      return true;
    });
    const client = new YakClient({ brokers: cluster.urls(), retry: { retries: 1, minDelayMs: 10, maxDelayMs: 10 } });
    // Not retried: a certificate that does not verify will not verify on the next try either.
    await assert.rejects(client.produce('never-created', { payload: 1 }), (err: YakClientError) => {
      assert.ok(!(err instanceof YakRetriesExhaustedError));
      assert.equal(err.code, 'TLS_FAILED');
      assert.equal(err.retriable, false);
      assert.match(err.message, /certificate/);
      return true;
    });
    const topics = (await httpsGet(`${cluster.brokers[0]!.url}/topics`, cluster.probe)).body.topics as { name: string }[];
    assert.ok(!topics.some((t) => t.name === 'never-created'));
  });

  test('a certificate from another CA is refused by the client that trusts only the cluster\'s CA', async () => {
    await assert.rejects(httpsGet(`${cluster.brokers[0]!.url}/health`, { ca: readFileSync(certs.otherCaCert) }), /certificate/);
  });

  test('the Redis password never appears in a broker\'s output', async () => {
    assert.match(cluster.output(), /redis rediss:\/\/\*\*\*@127\.0\.0\.1/);
    assert.ok(!cluster.output().includes(REDIS_PASSWORD));
  });
});

describe('mutual TLS (--tls-client-auth)', () => {
  let cluster: TlsCluster;
  before(async () => {
    cluster = await TlsCluster.start(certs, { mutual: true, redis: await RedisServer.start() });
  });
  after(() => cluster?.stop());

  test('brokers present their own certificate to each other: all three stay in sync and replicate', async () => {
    const client = new YakClient({
      brokers: cluster.urls(),
      ca: readFileSync(certs.caCert),
      cert: readFileSync(certs.clientCert),
      key: readFileSync(certs.clientKey),
    });
    await produceAndConsumeEverywhere(client, cluster, 20);
    await cluster.waitForInSync(3);
  });

  test('a client without a client certificate is refused, though it trusts the CA', async () => {
    await assert.rejects(httpsGet(`${cluster.brokers[0]!.url}/health`, { ca: readFileSync(certs.caCert) }));
    const client = new YakClient({ brokers: cluster.urls(), ca: readFileSync(certs.caCert), retry: { retries: 1, minDelayMs: 10, maxDelayMs: 10 } });
    await assert.rejects(client.produce(TOPIC, { payload: 'no cert' }), (err: YakClientError) => {
      assert.ok(err instanceof YakClientError, String(err));
      assert.match(err.message, /certificate|ECONNRESET|socket hang up/, err.message);
      return true;
    });
  });

  test('a client whose certificate is signed by the CA is accepted on every broker', async () => {
    for (const b of cluster.brokers) {
      const h = await httpsGet(`${b.url}/health`, cluster.probe);
      assert.equal(h.status, 200);
    }
  });
});

test('a bad TLS file stops the real broker with exit code 2 and one line naming the flag', () => {
  const cases: [string[], string][] = [
    [['--tls-cert', join(certs.dir, 'missing.crt'), '--tls-key', certs.serverKey], '--tls-cert'],
    [['--tls-cert', certs.serverCert, '--tls-key', certs.clientKey], '--tls-cert'],
    [['--tls-cert', certs.serverCert, '--tls-key', certs.serverKey, '--tls-client-auth'], '--tls-ca'],
    [['--tls-cert', certs.serverCert], '--tls-key'],
  ];
  for (const [args, flag] of cases) {
    const r = spawnSync(process.execPath, [BROKER_BIN, ...args], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.ok(lines[0]!.startsWith('yak-broker: ') && lines[0]!.includes(flag), `${lines[0]} names ${flag}`);
  }
});
