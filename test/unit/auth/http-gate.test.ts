import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { parseAuthFile } from '../../../broker-runtime/src/auth/auth-file.js';
import { AuthGate } from '../../../broker-runtime/src/auth/gate.js';
import { hashSecret } from '../../../broker-runtime/src/auth/secret-hash.js';
import { YakClient, YakForbiddenError, YakRetriesExhaustedError, YakThrottledError, YakUnauthenticatedError } from '../../../broker-runtime/src/client/index.js';
import { createBrokerServer } from '../../../broker-runtime/src/http/index.js';
import { stubService, type StubBroker } from '../http/stub-service.js';

/**
 * The gate wired into the real HTTP server over a stub service: which call needs what, and that
 * a refused call never reaches the service.
 */
describe('the HTTP layer behind an auth file', () => {
  let base = '';
  let stub: StubBroker;
  let close: () => Promise<void>;
  let now = 0;
  const APP = 'app:app-pw';
  const OPS = 'ops:ops-pw';
  const SLOW = 'slow:slow-pw';

  before(async () => {
    const cheap = { N: 1024, r: 8, p: 1 };
    const table = parseAuthFile(
      JSON.stringify({
        principals: {
          app: { secret_hash: await hashSecret('app-pw', cheap), produce: ['orders*'], consume: ['orders*'] },
          ops: { secret_hash: await hashSecret('ops-pw', cheap), admin: true },
          slow: { secret_hash: await hashSecret('slow-pw', cheap), produce: ['*'], consume: ['*'], quota: { in_bytes_per_second: 10, out_bytes_per_second: 10 } },
        },
      }),
    );
    stub = stubService({
      topics: () => [
        { name: 'orders', partitions: [], config: { 'retention.ms': 1, 'retention.bytes': -1, 'compression.type': 'producer', 'min.insync.replicas': 1, 'cleanup.policy': 'delete', 'delete.retention.ms': 86_400_000 } },
        { name: 'payroll', partitions: [], config: { 'retention.ms': 1, 'retention.bytes': -1, 'compression.type': 'producer', 'min.insync.replicas': 1, 'cleanup.policy': 'delete', 'delete.retention.ms': 86_400_000 } },
      ],
      leader: () => ({ leader: { id: 'b1', url: base }, epoch: 7 }),
    });
    const server = createBrokerServer(stub.service, { maxMessageBytes: 1024, logger: () => {}, gate: new AuthGate(table, () => now) });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
  });
  after(() => close());

  const send = async (method: string, path: string, token?: string, body?: unknown) => {
    const headers: Record<string, string> = {};
    if (token) headers['authorization'] = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(base + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
  };

  test('every client call but /health needs a token: 401 with WWW-Authenticate, and the service is never asked', async () => {
    const calls: [string, string, unknown?][] = [
      ['POST', '/produce', { topic: 'orders', payload: 1 }],
      ['POST', '/produce/batch', { topic: 'orders', records: [{ payload: 1 }] }],
      ['GET', '/consume?topic=orders&partition=0&offset=0'],
      ['GET', '/consume?no-query-checked-before-the-token'],
      ['GET', '/topics'],
      ['POST', '/topics', { name: 'x', partitions: 1 }],
      ['GET', '/metadata/leader'],
      ['GET', '/metadata/cluster'],
      ['GET', '/metrics'],
      ['GET', '/no/such/route'],
    ];
    const before = stub.calls.length;
    for (const [method, path, body] of calls) {
      const res = await send(method, path, undefined, body);
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.equal(res.json['error'], 'UNAUTHENTICATED');
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="yak"');
    }
    assert.equal(stub.calls.length, before, 'no refused call reached the service');
    assert.equal((await send('GET', '/health')).status, 200, '/health stays open for liveness probes');
    for (const path of ['/ready', '/Ready/']) assert.equal((await send('GET', path)).status, 200, `${path} stays open for readiness probes`);
  });

  test('creating a topic needs admin, however the path is spelt', async () => {
    const before = stub.calls.length;
    for (const path of ['/topics', '/Topics', '/topics/', '/TOPICS/']) {
      const res = await send('POST', path, APP, { name: 'x', partitions: 1 });
      assert.equal(res.status, 403, path);
      assert.equal(res.json['error'], 'FORBIDDEN');
    }
    assert.equal(stub.calls.length, before);
    assert.equal((await send('POST', '/topics', OPS, { name: 'x', partitions: 1 })).status, 201);
  });

  test('changing a topic\'s config needs admin, however the path is spelt; reading it any principal that sees the topic', async () => {
    const before = stub.calls.length;
    for (const path of ['/topics/orders/config', '/Topics/orders/Config', '/topics/orders/config/']) {
      const res = await send('POST', path, APP, { config: { 'retention.ms': 1000 } });
      assert.equal(res.status, 403, path);
    }
    assert.equal(stub.calls.length, before);
    assert.equal((await send('POST', '/topics/orders/config', OPS, { config: { 'retention.ms': 1000 } })).status, 200);
    assert.equal((await send('GET', '/topics/orders/config', APP)).status, 200);
    assert.equal((await send('GET', '/topics/payroll/config', APP)).status, 404, 'a topic outside the patterns is as unknown as in GET /topics');
  });

  test('a produce to a topic outside the patterns is 403 and reaches nothing; inside it is produced', async () => {
    const before = stub.calls.length;
    assert.equal((await send('POST', '/produce', APP, { topic: 'payroll', payload: 1 })).status, 403);
    assert.equal((await send('POST', '/produce', OPS, { topic: 'orders', payload: 1 })).status, 403, 'admin does not mean produce');
    assert.equal((await send('GET', '/consume?topic=payroll&partition=0&offset=0', APP)).status, 403);
    assert.equal(stub.calls.length, before);
    assert.equal((await send('POST', '/produce', APP, { topic: 'orders.eu', payload: 1 })).status, 200);
  });

  test('GET /topics lists only the topics the principal may use; metadata and metrics need only a principal', async () => {
    assert.deepEqual(((await send('GET', '/topics', APP)).json['topics'] as { name: string }[]).map((t) => t.name), ['orders']);
    assert.deepEqual(((await send('GET', '/topics', OPS)).json['topics'] as { name: string }[]).map((t) => t.name), ['orders', 'payroll']);
    for (const path of ['/metadata/leader', '/metadata/cluster', '/metrics']) assert.equal((await send('GET', path, OPS)).status, 200, path);
  });

  test('over its quota a principal gets 429 THROTTLED with Retry-After in whole seconds, before the body is used', async () => {
    now = 0;
    assert.equal((await send('POST', '/produce', SLOW, { topic: 't', payload: 'x'.repeat(40) })).status, 200);
    const before = stub.calls.length;
    const res = await send('POST', '/produce', SLOW, { topic: 't', payload: 1 });
    assert.equal(res.status, 429);
    assert.equal(res.json['error'], 'THROTTLED');
    const waitMs = res.json['retry_after_ms'] as number;
    assert.ok(waitMs > 1000 && waitMs <= 6000, String(waitMs));
    assert.equal(res.headers.get('retry-after'), String(Math.ceil(waitMs / 1000)));
    assert.equal(stub.calls.length, before);
    now = 10_000;
    assert.equal((await send('POST', '/produce', SLOW, { topic: 't', payload: 1 })).status, 200, 'paid back, let through again');
  });

  test('the client sends its token on every call and names 401 and 403, without retrying them', async () => {
    const client = new YakClient({ brokers: [base], token: APP, retry: { retries: 3, minDelayMs: 1, maxDelayMs: 1 } });
    assert.equal((await client.produce('orders', { payload: 1 })).offset, 100);
    assert.equal((await client.topics()).topics.length, 1);
    const before = stub.calls.length;
    await assert.rejects(client.produce('payroll', { payload: 1 }), (err) => err instanceof YakForbiddenError && err.status === 403 && !err.retriable);
    await assert.rejects(client.createTopic('x', 1), YakForbiddenError);
    const stranger = new YakClient({ brokers: [base], token: 'app:wrong', retry: { retries: 3, minDelayMs: 1, maxDelayMs: 1 } });
    await assert.rejects(stranger.topics(), (err) => err instanceof YakUnauthenticatedError && err.code === 'UNAUTHENTICATED' && !err.retriable);
    await assert.rejects(new YakClient({ brokers: [base] }).produce('orders', { payload: 1 }), YakUnauthenticatedError);
    assert.equal(stub.calls.length, before);
    assert.throws(() => new YakClient({ brokers: [base], token: 'a:b\r\nX-Evil: 1' }), TypeError);
  });

  test('the client waits out a 429 as Retry-After says, then succeeds', async () => {
    now = 20_000;
    const client = new YakClient({ brokers: [base], token: SLOW, retry: { retries: 2, minDelayMs: 1, maxDelayMs: 1 } });
    await client.produce('t', { payload: 'x'.repeat(20) }); // ~30 bytes over: in debt for about 3 s
    setTimeout(() => (now = 40_000), 200).unref();
    const started = Date.now();
    await assert.rejects(
      new YakClient({ brokers: [base], token: SLOW, retry: { retries: 0 } }).produce('t', { payload: 1 }),
      (err) => err instanceof YakRetriesExhaustedError && err.lastError instanceof YakThrottledError && err.lastError.retryAfterMs > 0,
    );
    assert.equal((await client.produce('t', { payload: 1 })).offset, 100);
    assert.ok(Date.now() - started >= 200, 'it waited rather than failing');
  });
});
