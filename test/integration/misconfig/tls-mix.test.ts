import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BrokerProcess } from '../../../testkit/broker/process.js';
import { makeTestCerts, type TestCerts } from '../../../testkit/certs.js';
import { get } from '../../../testkit/http.js';
import { freePort } from '../../../testkit/ports.js';
import { RedisServer } from '../../../testkit/redis/server.js';
import { waitFor } from '../../../testkit/wait.js';

/**
 * Several machines: TLS turned on for some brokers only (one host's env file has TLS_CERT, the
 * leader's has no TLS_CA). The leader could not verify the follower's certificate: it logged that
 * at debug level only, so the follower silently stayed out of the in-sync set. Now the leader warns
 * once, naming the follower's URL, the certificate problem and --tls-ca; and the differing TLS
 * setting itself is named by both.
 */
describe('TLS on some brokers only', () => {
  let redis: RedisServer;
  let dir: string;
  let certs: TestCerts;
  const brokers: BrokerProcess[] = [];

  before(async () => {
    redis = await RedisServer.start();
    dir = await mkdtemp(join(tmpdir(), 'yak-tls-mix-'));
    certs = makeTestCerts();
  });
  after(async () => {
    await Promise.all(brokers.map((b) => b.kill()));
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
    certs.remove();
  });

  const broker = async (id: string, tls: boolean) => {
    const b = new BrokerProcess({
      id,
      port: await freePort(),
      dataDir: join(dir, id),
      redisUrl: `redis://127.0.0.1:${redis.port}`,
      cluster: 'tlsmix',
      leaseSeconds: 2,
      renewSeconds: 0.5,
      partitions: 1,
      tls,
      extra: tls ? ['--tls-cert', certs.serverCert, '--tls-key', certs.serverKey, '--tls-ca', certs.caCert] : [],
    });
    b.start();
    brokers.push(b);
    await waitFor(`${id} listening`, () => get(b.url, '/health', 1000, undefined, tls ? readFileSync(certs.caCert) : undefined).then(() => true).catch(() => false), 15_000, 100);
    return b;
  };

  test('a leader without --tls-ca names the follower whose certificate it cannot verify', async () => {
    const plain = await broker('plain', false);
    await waitFor('plain leads', async () => (await get(plain.url, '/health')).body.role === 'leader', 20_000, 100);
    const secure = await broker('secure', true);
    const line = await waitFor('the leader names the follower', () => plain.output.find((l) => l.includes('WARN') && l.includes('cannot reach follower secure')), 20_000, 100).catch((err: Error) => {
      throw new Error(`${err.message}\n${plain.tail(15)}`);
    });
    assert.ok(line.includes(secure.url), line);
    assert.match(line, /certificate/);
    assert.match(line, /--tls-ca/);
    await waitFor('both name the TLS difference', () => [plain, secure].every((b) => b.output.some((l) => l.includes('WARN') && l.includes('--tls-cert'))), 15_000, 100);
  });
});
