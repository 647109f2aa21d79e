import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hashSecret, parseSecretHash, verifySecret } from '../../../broker-runtime/src/auth/secret-hash.js';
import { YakClient, YakForbiddenError, YakUnauthenticatedError } from '../../../broker-runtime/src/client/index.js';
import { BROKER_BIN } from '../../../testkit/broker/process.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { call, get } from '../../../testkit/http.js';
import { freePort } from '../../../testkit/ports.js';
import { waitFor } from '../../../testkit/wait.js';
import { RedisServer } from '../../../testkit/redis/server.js';

const ADMIN = 'admin:admin-secret';
const APP = 'app:app-secret';
const READER = 'reader:reader-secret';
const SLOW = 'slow:slow-secret';
const LATE = 'late:late-secret';

type Spec = { produce?: string[]; consume?: string[]; admin?: boolean; quota?: Record<string, number> };

async function authFile(principals: Record<string, [secret: string, spec: Spec]>): Promise<string> {
  const out: Record<string, unknown> = {};
  for (const [name, [secret, spec]] of Object.entries(principals)) out[name] = { secret_hash: await hashSecret(secret), ...spec };
  return JSON.stringify({ principals: out }, null, 2);
}

const PRINCIPALS: Record<string, [string, Spec]> = {
  admin: ['admin-secret', { produce: ['*'], consume: ['*'], admin: true }],
  app: ['app-secret', { produce: ['orders.*'], consume: ['orders.*'] }],
  reader: ['reader-secret', { consume: ['*'] }],
  slow: ['slow-secret', { produce: ['slow.*'], consume: ['slow.*'], quota: { in_bytes_per_second: 2000, out_bytes_per_second: 2000 } }],
};

/**
 * Client authentication, permissions and quotas (DESIGN.md "Security") against a real 2-broker
 * cluster whose produces need both brokers (so replication keeps working behind the gate).
 */
describe('a cluster started with --auth-file', () => {
  let cluster: TestCluster;
  let leader: string;
  let dir: string;
  let path: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'yak-auth-'));
    path = join(dir, 'principals.json');
    await writeFile(path, await authFile(PRINCIPALS));
    cluster = await TestCluster.start({ brokers: 2, minInsync: 2, partitions: 1, extra: ['--auth-file', path], token: ADMIN });
    leader = (await cluster.waitForLeader()).broker.url;
  });
  after(async () => {
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const produce = (token: string | undefined, topic: string, payload: unknown = 1) =>
    call(leader, 'POST', '/produce', { topic, payload }, undefined, 30_000, token);
  /** The topic's high-water mark as an admin sees it, or undefined when the topic does not exist. */
  const hwm = async (topic: string): Promise<number | undefined> => {
    const res = await get(leader, '/topics', 5000, ADMIN);
    assert.equal(res.status, 200, res.text);
    const t = (res.body.topics as { name: string; partitions: { high_watermark: number }[] }[]).find((x) => x.name === topic);
    return t?.partitions.reduce((sum, p) => sum + p.high_watermark, 0);
  };

  test('401 UNAUTHENTICATED without a token, with a wrong secret or an unknown principal; nothing is created', async () => {
    for (const token of [undefined, 'app:wrong', 'nobody:app-secret', 'app-secret']) {
      const res = await produce(token, 'orders.unauth');
      assert.equal(res.status, 401, `${token}: ${res.text}`);
      assert.equal(res.body.error, 'UNAUTHENTICATED');
    }
    const batch = await call(leader, 'POST', '/produce/batch', { topic: 'orders.unauth', records: [{ payload: 1 }] });
    assert.equal(batch.status, 401);
    assert.equal((await get(leader, '/consume?topic=orders.unauth&partition=0&offset=0')).status, 401);
    assert.equal((await get(leader, '/metadata/leader')).status, 401);
    assert.equal((await get(leader, '/metrics')).status, 401);
    assert.equal(await hwm('orders.unauth'), undefined, 'a refused produce does not create the topic');
    assert.equal((await get(leader, '/health')).status, 200, '/health stays open for liveness probes');
    assert.equal((await get(leader, '/ready')).status, 200, '/ready stays open for readiness probes (the leader is ready)');
  });

  test('403 FORBIDDEN on a topic outside the patterns and on admin calls; nothing is written', async () => {
    assert.equal((await produce(APP, 'payroll')).status, 403);
    assert.equal(await hwm('payroll'), undefined, 'a forbidden produce does not create the topic');
    const create = await call(leader, 'POST', '/topics', { name: 'orders.new', partitions: 1 }, undefined, 30_000, APP);
    assert.equal(create.status, 403, create.text);
    assert.equal(create.body.error, 'FORBIDDEN');
    assert.equal(await hwm('orders.new'), undefined);

    assert.equal((await produce(ADMIN, 'orders.kept', 'first')).status, 200);
    const before = await hwm('orders.kept');
    assert.equal(before, 1);
    const denied = await produce(READER, 'orders.kept', 'second');
    assert.equal(denied.status, 403, denied.text);
    assert.equal(await hwm('orders.kept'), before, 'the high-water mark did not move');
    assert.equal((await get(leader, '/consume?topic=orders.kept&partition=0&offset=0', 5000, SLOW)).status, 403);
    assert.equal((await get(leader, '/consume?topic=orders.kept&partition=0&offset=0', 5000, READER)).status, 200);
    assert.equal((await call(leader, 'POST', '/topics', { name: 'made.by.admin', partitions: 1 }, undefined, 30_000, ADMIN)).status, 201);
  });

  test('429 THROTTLED with Retry-After once a principal is over its quota; the refused produce writes nothing', async () => {
    const big = 'x'.repeat(6000);
    assert.equal((await produce(SLOW, 'slow.t', big)).status, 200, 'let through while not in debt');
    const before = await hwm('slow.t');
    const res = await fetch(`${leader}/produce`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SLOW}` },
      body: JSON.stringify({ topic: 'slow.t', payload: 'small' }),
    });
    const body = (await res.json()) as { error: string; retry_after_ms: number };
    assert.equal(res.status, 429);
    assert.equal(body.error, 'THROTTLED');
    assert.ok(body.retry_after_ms > 1000 && body.retry_after_ms <= 2100, String(body.retry_after_ms));
    assert.equal(res.headers.get('retry-after'), String(Math.ceil(body.retry_after_ms / 1000)));
    assert.equal(await hwm('slow.t'), before, 'the high-water mark did not move');

    // Outbound: the answer that overdraws the bucket is sent, the next consume waits.
    const first = await get(leader, '/consume?topic=slow.t&partition=0&offset=0', 5000, SLOW);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.records[0].payload, big);
    const next = await get(leader, '/consume?topic=slow.t&partition=0&offset=0', 5000, SLOW);
    assert.equal(next.status, 429, next.text);
    assert.equal(next.body.error, 'THROTTLED');
  });

  test('the client with a token produces and consumes through the leader; a wrong token or a forbidden call fails at once', async () => {
    const client = new YakClient({ brokers: cluster.urls(), token: APP });
    const one = await client.produce('orders.client', { key: 'k', payload: { n: 1 } });
    await client.produceBatch('orders.client', [{ payload: { n: 2 } }, { payload: { n: 3 } }]);
    const got = await client.consume<{ n: number }>('orders.client', one.partition, 0);
    assert.deepEqual(got.records.map((r) => r.payload.n), [1, 2, 3]);
    await assert.rejects(client.createTopic('orders.x', 1), YakForbiddenError);
    await assert.rejects(client.produce('payroll', { payload: 1 }), YakForbiddenError);
    const started = Date.now();
    await assert.rejects(new YakClient({ brokers: cluster.urls(), token: 'app:nope' }).produce('orders.client', { payload: 1 }), YakUnauthenticatedError);
    await assert.rejects(new YakClient({ brokers: cluster.urls() }).topics(), YakUnauthenticatedError);
    assert.ok(Date.now() - started < 3000, 'not retried');
  });

  test('SIGHUP reloads the auth file: an added principal works without a restart; a bad file keeps the old one', async () => {
    assert.equal((await get(leader, '/metadata/leader', 5000, LATE)).status, 401);
    await writeFile(path, await authFile({ ...PRINCIPALS, late: ['late-secret', { produce: ['late.*'] }] }));
    for (const b of cluster.brokers) b.signal('SIGHUP');
    for (const b of cluster.brokers) {
      await waitFor(`${b.id} accepts the new principal`, async () => (await get(b.url, '/metadata/leader', 2000, LATE)).status === 200, 10_000);
    }
    assert.equal((await produce(LATE, 'late.t')).status, 200);

    await writeFile(path, '{"principals": {"late": {"secret_hash": "plain text"}}}');
    for (const b of cluster.brokers) b.signal('SIGHUP');
    for (const b of cluster.brokers) {
      await waitFor(`${b.id} logs the refused reload`, () => b.output.some((l) => l.includes('kept the previous principals') && l.includes('secret_hash')), 10_000);
      assert.ok(b.running(), `${b.id} is still running`);
    }
    assert.equal((await produce(LATE, 'late.t')).status, 200, 'the previous principals still apply');
    assert.equal((await produce(APP, 'orders.after')).status, 200);
  });
});

describe('starting a broker', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'yak-auth-start-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  const run = (args: string[], input?: string) =>
    spawnSync(process.execPath, [BROKER_BIN, '--data-dir', join(dir, 'data'), '--redis', 'redis://127.0.0.1:1', ...args], {
      encoding: 'utf8',
      timeout: 15_000,
      ...(input === undefined ? {} : { input }),
    });

  test('protected mode: a non-loopback --host without --auth-file exits 2 with one line naming --auth-file and --insecure', async () => {
    for (const args of [['--host', '0.0.0.0'], ['--host', '::']]) {
      const r = run([...args, '--port', String(await freePort())]);
      assert.equal(r.status, 2, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /protected mode/);
      assert.ok(lines[0]!.includes('--auth-file') && lines[0]!.includes('--insecure'), lines[0]);
    }
  });

  test('--insecure lets a broker listen on 0.0.0.0 without an auth file, and says so in its log', async () => {
    const redis = await RedisServer.start();
    const port = await freePort();
    const output: string[] = [];
    const p = spawn(process.execPath, [BROKER_BIN, '--id', 'open1', '--host', '0.0.0.0', '--insecure', '--port', String(port), '--data-dir', join(dir, 'open'), '--redis', redis.url, '--cluster', `o${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.on('data', (d: Buffer) => output.push(d.toString()));
    p.stderr.on('data', (d: Buffer) => output.push(d.toString()));
    try {
      await waitFor('the open broker to answer', async () => (await get(`http://127.0.0.1:${port}`, '/health', 1000)).status === 200, 15_000);
      assert.equal((await get(`http://127.0.0.1:${port}`, '/metadata/leader', 1000)).status, 200, 'no token needed');
      assert.ok(output.join('').includes('--insecure'), output.join(''));
    } finally {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await exited;
      await redis.stop();
    }
  });

  test('a bad auth file at start exits 2 with one line naming --auth-file', async () => {
    const files: [string, string | null, RegExp][] = [
      ['missing.json', null, /no such file/],
      ['garbage.json', 'principals: yes', /not valid JSON/],
      ['plain.json', JSON.stringify({ principals: { app: { secret_hash: 'hunter2' } } }), /principals\.app\.secret_hash is not a secret hash/],
      ['typo.json', JSON.stringify({ principals: { app: { secret_hash: await hashSecret('s'), consumes: ['*'] } } }), /unknown field 'consumes'/],
    ];
    for (const [name, text, why] of files) {
      const file = join(dir, name);
      if (text !== null) await writeFile(file, text);
      const r = run(['--auth-file', file, '--port', String(await freePort())]);
      assert.equal(r.status, 2, `${name}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.ok(lines[0]!.includes('--auth-file'), lines[0]);
      assert.match(lines[0]!, why);
      assert.ok(!lines[0]!.includes('hunter2'), 'a misplaced secret is not echoed');
    }
  });

  test('`yak-broker hash-secret` hashes the secret read on stdin', async () => {
    const r = spawnSync(process.execPath, [BROKER_BIN, 'hash-secret'], { input: 'correct horse\n', encoding: 'utf8', timeout: 15_000 });
    assert.equal(r.status, 0, r.stderr);
    const hash = parseSecretHash(r.stdout.trim());
    assert.equal(await verifySecret('correct horse', hash), true, 'the trailing newline is not part of the secret');
    const empty = spawnSync(process.execPath, [BROKER_BIN, 'hash-secret'], { input: '', encoding: 'utf8', timeout: 15_000 });
    assert.equal(empty.status, 2);
  });
});
