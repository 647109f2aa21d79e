import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type RunningServer, request, startServer, stubService } from './stub-service.js';

describe('HTTP routes', () => {
  const stub = stubService();
  let server: RunningServer;
  before(async () => {
    server = await startServer(stub.service, 1024);
  });
  after(() => server.close());
  const lastCall = () => stub.calls.at(-1);

  test('POST /produce hands the service the payload as JSON text and answers {topic, partition, offset}', async () => {
    const res = await request(`${server.base}/produce`, {
      method: 'POST',
      body: JSON.stringify({ topic: 'orders', key: 'k1', payload: { a: [1, 2, { b: null }] }, partition: 2, headers: { trace: 'x' } }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { topic: 'orders', partition: 2, offset: 100 });
    assert.deepEqual(lastCall(), {
      method: 'produce',
      args: ['orders', [{ key: 'k1', payload: '{"a":[1,2,{"b":null}]}', headers: { trace: 'x' }, partition: 2 }]],
    });
  });

  test('POST /produce accepts a null payload, a null key and no headers', async () => {
    const res = await request(`${server.base}/produce`, { method: 'POST', body: JSON.stringify({ topic: 't', key: null, payload: null }) });
    assert.equal(res.status, 200);
    assert.deepEqual(lastCall()?.args, ['t', [{ key: null, payload: 'null', headers: {} }]]);
  });

  test('POST /produce/batch answers one result per record, in request order', async () => {
    const records = [{ payload: 'a' }, { key: 'k', payload: [1] }, { payload: 3, partition: 1 }];
    const res = await request(`${server.base}/produce/batch`, { method: 'POST', body: JSON.stringify({ topic: 'orders', records }) });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, {
      topic: 'orders',
      results: [
        { partition: 0, offset: 100 },
        { partition: 0, offset: 101 },
        { partition: 1, offset: 102 },
      ],
    });
    const [, sent] = lastCall()?.args as [string, { payload: string }[]];
    assert.deepEqual(sent.map((r) => r.payload), ['"a"', '[1]', '3']);
  });

  test('POST /produce and /produce/batch hand the producer\'s compression to the service; an unknown codec is refused', async () => {
    let res = await request(`${server.base}/produce/batch`, { method: 'POST', body: JSON.stringify({ topic: 'orders', records: [{ payload: 1 }], compression: 'lz4' }) });
    assert.equal(res.status, 200);
    assert.equal(lastCall()?.args[2], 'lz4');
    res = await request(`${server.base}/produce`, { method: 'POST', body: JSON.stringify({ topic: 'orders', payload: 1, compression: 'gzip' }) });
    assert.equal(res.status, 200);
    assert.equal(lastCall()?.args[2], 'gzip');
    const before = stub.calls.length;
    for (const compression of ['snappy', 'zstd', 'GZIP', 7, {}]) {
      res = await request(`${server.base}/produce/batch`, { method: 'POST', body: JSON.stringify({ topic: 'orders', records: [{ payload: 1 }], compression }) });
      assert.equal(res.status, 400, JSON.stringify(compression));
      assert.match(String(res.json['message']), /compression must be one of none, gzip, lz4/);
    }
    assert.equal(stub.calls.length, before, 'a refused produce reaches no service');
  });

  test('GET /consume embeds stored payload text as JSON values that round-trip', async () => {
    const payloads: unknown[] = [{ order: 1, items: ['a', 'b'] }, [1, [2, 3]], 'text with "quotes" and ünïcode', 42.5, null, true];
    stub.stored.length = 0;
    payloads.forEach((p, offset) =>
      stub.stored.push({ offset, key: offset % 2 ? `k"${offset}` : null, payload: JSON.stringify(p), timestamp: 1_700_000_000_000 + offset, headers: offset ? { h: 'v"\n' } : {} }),
    );
    const res = await request(`${server.base}/consume?topic=orders&partition=0&offset=0`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(lastCall(), { method: 'consume', args: ['orders', 0, 0, 500, 0] }, 'defaults: max 500, wait_ms 0');
    assert.equal(res.json['topic'], 'orders');
    assert.equal(res.json['next_offset'], payloads.length);
    assert.equal(res.json['high_watermark'], payloads.length);
    const records = res.json['records'] as { offset: number; key: string | null; payload: unknown; headers: unknown; timestamp: number }[];
    assert.deepEqual(records.map((r) => r.payload), payloads);
    assert.deepEqual(records.map((r) => r.key), payloads.map((_, i) => (i % 2 ? `k"${i}` : null)));
    assert.deepEqual(records[1]?.headers, { h: 'v"\n' });
    assert.equal(records[2]?.timestamp, 1_700_000_000_002);
  });

  test('GET /consume passes max and wait_ms, and answers an empty page when there is nothing new', async () => {
    const res = await request(`${server.base}/consume?topic=orders&partition=3&offset=99&max=10000&wait_ms=30000`);
    assert.equal(res.status, 200);
    assert.deepEqual(lastCall()?.args, ['orders', 3, 99, 10_000, 30_000]);
    assert.deepEqual(res.json['records'], []);
  });

  test('POST /replica/append passes the binary body to replicate() and answers its buffer', async () => {
    const res = await fetch(`${server.base}/replica/append`, {
      method: 'POST',
      // A proof's form (the stub checks no MAC): without one the frame is refused before its body is read.
      headers: { 'content-type': 'application/octet-stream', 'x-yak-frame-auth': `7.${'A'.repeat(43)}` },
      body: Buffer.from([1, 2, 3, 0, 255]),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    assert.deepEqual([...new Uint8Array(await res.arrayBuffer())], [255, 0, 3, 2, 1]);
  });

  test('POST /replica/append refuses a JSON body with 415', async () => {
    const res = await request(`${server.base}/replica/append`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 415);
    assert.equal(res.json['error'], 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('GET /topics, POST /topics (201), metadata and health answer the service views', async () => {
    assert.deepEqual((await request(`${server.base}/topics`)).json, { topics: stub.service.topics() });
    const created = await request(`${server.base}/topics`, { method: 'POST', body: JSON.stringify({ name: 'new.topic-1', partitions: 6 }) });
    assert.equal(created.status, 201);
    assert.deepEqual(created.json, { name: 'new.topic-1', partitions: 6, config: { 'retention.ms': 604_800_000, 'retention.bytes': -1, 'compression.type': 'producer', 'min.insync.replicas': 1, 'cleanup.policy': 'delete', 'delete.retention.ms': 86_400_000 } });
    assert.deepEqual(stub.calls.findLast((c) => c.method === 'createTopic'), { method: 'createTopic', args: ['new.topic-1', 6, undefined] });
    await request(`${server.base}/topics`, { method: 'POST', body: JSON.stringify({ name: 'short', partitions: 1, config: { 'retention.ms': 60000 } }) });
    assert.deepEqual(stub.calls.findLast((c) => c.method === 'createTopic'), { method: 'createTopic', args: ['short', 1, { 'retention.ms': 60000 }] });
    assert.deepEqual((await request(`${server.base}/metadata/leader`)).json, stub.service.leader());
    assert.equal((await request(`${server.base}/metadata/cluster`)).json['cluster'], 'yak');
    assert.equal((await request(`${server.base}/health`)).json['role'], 'leader');
  });

  test('GET and POST /topics/{name}/config answer the service views; bad keys and values are 400 before the service is asked', async () => {
    assert.equal((await request(`${server.base}/topics/orders/config`)).json['name'], 'orders');
    const changed = await request(`${server.base}/topics/orders/config`, { method: 'POST', body: JSON.stringify({ config: { 'retention.ms': 1000, 'retention.bytes': null } }) });
    assert.equal(changed.status, 200);
    assert.deepEqual(lastCall(), { method: 'setTopicConfig', args: ['orders', { 'retention.ms': 1000, 'retention.bytes': null }] });
    const before = stub.calls.length;
    for (const body of [{ config: { 'cleanup.policy': 'compact-all' } }, { config: { 'segment.ms': 1 } }, { config: { 'retention.ms': -2 } }, { config: { 'retention.bytes': 'big' } }, { config: [] }, {}, { config: {}, extra: 1 }]) {
      const res = await request(`${server.base}/topics/orders/config`, { method: 'POST', body: JSON.stringify(body) });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.json['error'], 'INVALID_REQUEST');
    }
    const badCreate = await request(`${server.base}/topics`, { method: 'POST', body: JSON.stringify({ name: 'x', partitions: 1, config: { 'retention.hours': 1 } }) });
    assert.equal(badCreate.status, 400);
    assert.equal((await request(`${server.base}/topics/bad%20name/config`)).status, 400);
    assert.equal(stub.calls.length, before);
  });

  test('GET /metrics answers JSON, and the text exposition format with ?format=prometheus', async () => {
    assert.deepEqual((await request(`${server.base}/metrics`)).json, stub.service.metrics());
    const prom = await request(`${server.base}/metrics?format=prometheus`);
    assert.equal(prom.status, 200);
    assert.match(prom.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(prom.text, /^yak_records_produced_total 42$/m);
    const bad = await request(`${server.base}/metrics?format=xml`);
    assert.equal(bad.status, 400);
    assert.equal(bad.json['error'], 'INVALID_REQUEST');
  });

  test('GET /metrics?format=prometheus falls back to numeric metrics when the service has no prometheus()', async () => {
    const plain = stubService({ prometheus: undefined });
    const other = await startServer(plain.service);
    try {
      const res = await request(`${other.base}/metrics?format=prometheus`);
      assert.equal(res.status, 200);
      assert.equal(res.text, 'yak_records_produced_total 42\nyak_in_sync 1\n');
    } finally {
      await other.close();
    }
  });

  test('an unknown route is 404 NOT_FOUND as JSON, naming the routes to use instead', async () => {
    for (const [method, path] of [['GET', '/nope'], ['POST', '/produce/other'], ['GET', '/']]) {
      const res = await request(server.base + path!, { method: method! });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.deepEqual(Object.keys(res.json).sort(), ['error', 'message']);
      assert.equal(res.json['error'], 'NOT_FOUND');
      // A newcomer's typo (/topic) or a browser pointed at / gets a way on, not just "no route".
      const message = String(res.json['message']);
      assert.ok(message.startsWith(`no route for ${method} ${path}; `), message);
      assert.match(message, /POST \/produce, GET \/consume\?topic&partition&offset, GET \/topics, GET \/metadata\/cluster, GET \/health/);
    }
  });

  test('a known path with the wrong method is 405 METHOD_NOT_ALLOWED as JSON with an Allow header', async () => {
    const cases: [string, string, string][] = [
      ['GET', '/produce', 'POST'],
      ['PUT', '/produce/batch', 'POST'],
      ['POST', '/consume', 'GET'],
      ['GET', '/replica/append', 'POST'],
      ['DELETE', '/topics', 'GET, POST'],
      ['POST', '/health', 'GET'],
      ['POST', '/metadata/leader', 'GET'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await request(server.base + path, { method });
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(res.json['error'], 'METHOD_NOT_ALLOWED');
      assert.equal(res.headers.get('allow'), allow);
    }
  });

  test('a request that is not HTTP gets a JSON 400, not a bare status line', async () => {
    const url = new URL(server.base);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(url.port), url.hostname, () => socket.write('BLAH /produce HTTP/9\r\n\r\n'));
      let text = '';
      socket.on('data', (c) => (text += c));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /\{"error":"INVALID_REQUEST","message":"[^"]+"\}$/);
  });
});
