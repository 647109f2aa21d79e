import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hashSecret } from '../../../broker-runtime/src/auth/index.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BrokerProcess } from '../../../testkit/broker/process.js';
import { get } from '../../../testkit/http.js';
import { freePort } from '../../../testkit/ports.js';
import { RedisServer } from '../../../testkit/redis/server.js';
import { sleep, waitFor } from '../../../testkit/wait.js';

/**
 * Several machines, one env file each: settings that must be the same on every broker drift apart
 * (one host's MIN_INSYNC_REPLICAS left at 1, another DEFAULT_PARTITIONS). The leader's settings
 * decide, so how durable an acknowledged write is, or which partition a key lands in for a topic
 * made on first produce, changed with every failover — and nothing said so. Now each broker
 * compares the settings every broker registers and logs one warning per difference, naming the
 * other broker, the flag and both values; both sides say it.
 */
describe('settings that differ between brokers', () => {
  let redis: RedisServer;
  let dir: string;
  const brokers: BrokerProcess[] = [];

  before(async () => {
    redis = await RedisServer.start();
    dir = await mkdtemp(join(tmpdir(), 'yak-drift-'));
  });
  after(async () => {
    await Promise.all(brokers.map((b) => b.kill()));
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const broker = async (id: string, minInsync: number, partitions: number, extra: string[] = []) => {
    const b = new BrokerProcess({
      id,
      port: await freePort(),
      dataDir: join(dir, id),
      redisUrl: `redis://127.0.0.1:${redis.port}`,
      cluster: 'drift',
      leaseSeconds: 2,
      renewSeconds: 0.5,
      partitions,
      minInsync,
      extra,
    });
    b.start();
    brokers.push(b);
    await waitFor(`${id} listening`, () => get(b.url, '/health', 1000).then(() => true).catch(() => false), 15_000, 100);
    return b;
  };

  test('each broker names the other, the flag and both values, once', async () => {
    const a = await broker('a', 2, 3);
    const b = await broker('b', 1, 5);
    const c = await broker('c', 2, 3);
    const warned = (x: BrokerProcess, flag: string) => x.output.filter((l) => l.includes('WARN') && l.includes(flag));
    await waitFor('both sides warn', () => warned(a, '--min-insync').length > 0 && warned(b, '--min-insync').length > 0 && warned(c, '--min-insync').length > 0, 15_000, 100).catch((err: Error) => {
      throw new Error(`${err.message}\n${a.tail(10)}\n${b.tail(10)}`);
    });
    const onA = warned(a, '--min-insync')[0]!;
    assert.match(onA, /broker b runs with --min-insync 1, this broker \(a\) with 2/);
    assert.match(onA, /MIN_INSYNC_REPLICAS/);
    assert.match(warned(b, '--min-insync')[0]!, /broker a runs with --min-insync 2, this broker \(b\) with 1/);
    assert.match(warned(a, '--partitions')[0]!, /broker b runs with --partitions 5, this broker \(a\) with 3/);
    // a and c agree: neither names the other.
    assert.ok(!a.output.some((l) => l.includes('broker c runs with')), a.tail(10));
    await sleep(3000);
    for (const x of [a, b]) assert.equal(warned(x, '--min-insync').length, x === b ? 2 : 1, x.tail(10));
  });

  test('different auth files: a token that works on one broker is refused by another; both name the difference', async () => {
    const file = async (name: string, secret: string) => {
      const path = join(dir, `${name}.json`);
      await writeFile(path, JSON.stringify({ principals: { app: { secret_hash: await hashSecret(secret), produce: ['*'], consume: ['*'], admin: true } } }));
      return path;
    };
    const e1 = await broker('e1', 1, 1, ['--auth-file', await file('e1', 'SECRET-ONE-x7')]);
    const e2 = await broker('e2', 1, 1, ['--auth-file', await file('e2', 'SECRET-TWO-y8')]);
    for (const [x, other] of [[e1, 'e2'], [e2, 'e1']] as const) {
      const line = await waitFor(`${x.id} names the auth file`, () => x.output.find((l) => l.includes('WARN') && l.includes(`broker ${other} runs with --auth-file sha256:`)), 15_000, 100);
      assert.match(line, /AUTH_FILE\) file/);
      assert.ok(!line.includes('SECRET-'), 'no secret in the line');
    }
  });
});
