import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BrokerProcess } from '../../../testkit/broker/process.js';
import { get, produceToNewLeader } from '../../../testkit/http.js';
import { freePort } from '../../../testkit/ports.js';
import { RedisServer } from '../../../testkit/redis/server.js';
import { sleep, waitFor } from '../../../testkit/wait.js';

/**
 * Several machines: a second broker started with an --id already in use (a copied env file, a
 * cloned VM with the default broker-<hostname>). Before, it ran: it overwrote the live broker's
 * registration with its own URL (the leader then replicated to it instead), and, its id being in
 * the in-sync set, it could be elected with an empty log. Now it stops at start (exit 2) with one
 * line naming --id and the live broker's URL, and the live broker is left alone.
 */
describe('a second broker with an --id already in use', () => {
  let redis: RedisServer;
  let dir: string;
  const brokers: BrokerProcess[] = [];

  before(async () => {
    redis = await RedisServer.start();
    dir = await mkdtemp(join(tmpdir(), 'yak-dup-id-'));
  });
  after(async () => {
    await Promise.all(brokers.map((b) => b.kill()));
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const broker = async (id: string, folder: string) => {
    const b = new BrokerProcess({
      id,
      port: await freePort(),
      dataDir: join(dir, folder),
      redisUrl: `redis://127.0.0.1:${redis.port}`,
      cluster: 'dup',
      leaseSeconds: 2,
      renewSeconds: 0.5,
      partitions: 1,
    });
    b.start();
    brokers.push(b);
    return b;
  };
  const listening = (b: BrokerProcess) => waitFor(`${b.id} listening`, () => get(b.url, '/health', 1000).then(() => true).catch(() => false), 15_000, 100);
  const registeredUrl = async (via: BrokerProcess, id: string) =>
    ((await get(via.url, '/metadata/cluster')).body.brokers as { id: string; url: string | null }[]).find((x) => x.id === id)?.url;

  test('the newcomer refuses to start, naming --id and the live broker; nothing acknowledged is lost', async () => {
    const a = await broker('a', 'host1-a');
    const b = await broker('b', 'host2-b');
    await Promise.all([listening(a), listening(b)]);
    const leader = await waitFor('a leader with both in sync', async () => {
      for (const x of [a, b]) {
        const c = (await get(x.url, '/metadata/cluster')).body;
        if (c.leader && c.brokers.filter((y: { in_sync: boolean; alive: boolean }) => y.in_sync && y.alive).length === 2) return c.leader.id === 'a' ? a : b;
      }
      return null;
    }, 20_000, 100);
    const acked: number[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await produceToNewLeader(leader.url, { topic: 't', payload: i, partition: 0 });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      acked.push(r.body.offset);
    }

    // "host 3": same --id a, its own (empty) data folder and port.
    const dup = await broker('a', 'host3-a');
    await waitFor('the duplicate stops', () => dup.exitCode !== null, 20_000, 100).catch((err: Error) => {
      throw new Error(`${err.message}\n${dup.tail(20)}`);
    });
    assert.equal(dup.exitCode, 2, dup.tail(20));
    const line = dup.output.find((l) => l.includes('--id'));
    assert.ok(line, dup.tail(20));
    assert.match(line!, /broker id a is already in use/);
    assert.ok(line!.includes(a.url), line);
    // The live broker saw nobody take its registration.
    for (let i = 0; i < 5; i++) {
      assert.equal(await registeredUrl(b, 'a'), a.url);
      await sleep(200);
    }
    assert.ok(!a.output.some((l) => l.includes('ERROR')), a.tail(20));

    // The real a and b still hold everything: kill the leader, the other leads with every record.
    leader.signal('SIGKILL');
    const other = leader === a ? b : a;
    await waitFor(`${other.id} leads`, async () => (await get(other.url, '/health')).body.role === 'leader', 20_000, 100);
    const read = await get(other.url, '/consume?topic=t&partition=0&offset=0&max=100');
    assert.deepEqual(read.body.records.map((r: { offset: number }) => r.offset), acked);
  });

  test('a broker restarted under its own id after a crash starts at once, not refused', async () => {
    const c = await broker('c', 'host4-c');
    await listening(c);
    await waitFor('c registered', async () => (await registeredUrl(c, 'c')) === c.url, 15_000, 100);
    c.signal('SIGKILL');
    await waitFor('c gone', () => !c.running(), 5000, 50);
    c.start();
    await listening(c);
    await waitFor('c registered again', async () => (await get(c.url, '/metadata/cluster')).body.brokers.find((x: { id: string; alive: boolean }) => x.id === 'c')?.alive, 15_000, 100);
    assert.ok(c.running());
    assert.ok(!c.output.some((l) => l.includes('already in use')), c.tail(20));
  });

  test('two brokers with one id started while Redis was unreachable: each says so once Redis answers, at error level and in /health', async () => {
    await redis.kill();
    const d1 = await broker('d', 'host5-d');
    const d2 = await broker('d', 'host6-d');
    await Promise.all([listening(d1), listening(d2)]);
    await redis.launch();
    const named = (x: BrokerProcess) => x.output.some((l) => l.includes('ERROR') && l.includes('broker id d is already in use'));
    await waitFor('the duplicate named', () => named(d1) || named(d2), 30_000, 100).catch((err: Error) => {
      throw new Error(`${err.message}\n${d1.tail(10)}\n${d2.tail(10)}`);
    });
    const seen = named(d1) ? d1 : d2;
    const other = seen === d1 ? d2 : d1;
    assert.ok(seen.output.find((l) => l.includes('broker id d is already in use'))!.includes(other.url), seen.tail(10));
    const health = (await get(seen.url, '/health')).body;
    assert.equal(health.status, 'degraded');
    assert.match(health.degraded_reasons.join(' '), /another broker registers with this broker's id d/);
  });
});
