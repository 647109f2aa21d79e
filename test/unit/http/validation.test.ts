import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { type RunningServer, request, startServer, stubService } from './stub-service.js';

/** Every malformed request is refused with a named error before the service hears of it. */
describe('HTTP validation', () => {
  const stub = stubService();
  let server: RunningServer;
  before(async () => {
    server = await startServer(stub.service, 1024);
  });
  after(() => server.close());

  async function expectRefused(
    method: string,
    path: string,
    body: string | undefined,
    status: number,
    code: string,
  ): Promise<Record<string, unknown>> {
    const before = stub.calls.length;
    const res = await request(server.base + path, { method, ...(body === undefined ? {} : { body }) });
    assert.equal(res.status, status, `${method} ${path} ${body ?? ''} → ${res.text}`);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(res.json['error'], code, res.text);
    assert.equal(typeof res.json['message'], 'string');
    assert.equal(stub.calls.length, before, `the service must not be called for ${method} ${path} ${body ?? ''}`);
    return res.json;
  }

  const produceCases: [string, unknown][] = [
    ['body is an array', [1, 2]],
    ['body is a string', 'hello'],
    ['body is null', null],
    ['topic missing', { payload: 1 }],
    ['topic not a string', { topic: 5, payload: 1 }],
    ['topic empty', { topic: '', payload: 1 }],
    ['topic with a space', { topic: 'a b', payload: 1 }],
    ['topic with a slash', { topic: '../etc', payload: 1 }],
    ['topic is ..', { topic: '..', payload: 1 }],
    ['topic of 250 characters', { topic: 'a'.repeat(250), payload: 1 }],
    ['key a number', { topic: 't', key: 5, payload: 1 }],
    ['key an object', { topic: 't', key: {}, payload: 1 }],
    ['payload missing', { topic: 't', key: 'k' }],
    ['partition negative', { topic: 't', payload: 1, partition: -1 }],
    ['partition fractional', { topic: 't', payload: 1, partition: 1.5 }],
    ['partition a string', { topic: 't', payload: 1, partition: '1' }],
    ['partition beyond safe integers', { topic: 't', payload: 1, partition: 2 ** 60 }],
    ['headers an array', { topic: 't', payload: 1, headers: ['a'] }],
    ['headers a string', { topic: 't', payload: 1, headers: 'a=b' }],
    ['header value a number', { topic: 't', payload: 1, headers: { a: 1 } }],
  ];
  for (const [name, body] of produceCases) {
    test(`POST /produce refuses with 400 INVALID_REQUEST when ${name}`, async () => {
      await expectRefused('POST', '/produce', JSON.stringify(body), 400, 'INVALID_REQUEST');
    });
  }

  test('POST /produce refuses a body that is not JSON with 400 INVALID_JSON', async () => {
    await expectRefused('POST', '/produce', '{"topic": "t", "payload": ', 400, 'INVALID_JSON');
    const shellAteTheQuotes = await expectRefused('POST', '/produce', '{topic:orders,payload:1}', 400, 'INVALID_JSON');
    assert.match(String(shellAteTheQuotes['message']), /^the request body is not valid JSON: .*; send one JSON object \(with curl: -d '\{"topic":"orders","payload":1\}', in single quotes/);
    await expectRefused('POST', '/produce', 'not json', 400, 'INVALID_JSON');
    await expectRefused('POST', '/produce', '', 400, 'INVALID_JSON');
  });

  const batchCases: [string, unknown][] = [
    ['records missing', { topic: 't' }],
    ['records empty', { topic: 't', records: [] }],
    ['records not an array', { topic: 't', records: { payload: 1 } }],
    ['a record is not an object', { topic: 't', records: [{ payload: 1 }, 7] }],
    ['a record lacks payload', { topic: 't', records: [{ payload: 1 }, { key: 'k' }] }],
    ['a record has a bad partition', { topic: 't', records: [{ payload: 1, partition: -3 }] }],
    ['topic invalid', { topic: 'no way', records: [{ payload: 1 }] }],
  ];
  for (const [name, body] of batchCases) {
    test(`POST /produce/batch refuses with 400 INVALID_REQUEST when ${name}`, async () => {
      await expectRefused('POST', '/produce/batch', JSON.stringify(body), 400, 'INVALID_REQUEST');
    });
  }

  test('POST /produce/batch names the offending record', async () => {
    const body = await expectRefused('POST', '/produce/batch', JSON.stringify({ topic: 't', records: [{ payload: 1 }, { key: 'k' }] }), 400, 'INVALID_REQUEST');
    assert.match(String(body['message']), /records\[1\]\.payload/);
  });

  test('POST /produce/batch refuses more than 10000 records', async () => {
    const big = await startServer(stub.service, 1024 * 1024);
    try {
      const records = Array.from({ length: 10_001 }, () => ({ payload: 0 }));
      const res = await request(`${big.base}/produce/batch`, { method: 'POST', body: JSON.stringify({ topic: 't', records }) });
      assert.equal(res.status, 400);
      assert.equal(res.json['error'], 'INVALID_REQUEST');
      assert.match(String(res.json['message']), /10000/);
    } finally {
      await big.close();
    }
  });

  const consumeCases: [string, string][] = [
    ['topic missing', 'partition=0&offset=0'],
    ['topic invalid', 'topic=a%20b&partition=0&offset=0'],
    ['partition missing', 'topic=t&offset=0'],
    ['offset missing', 'topic=t&partition=0'],
    ['offset empty', 'topic=t&partition=0&offset='],
    ['offset fractional', 'topic=t&partition=0&offset=1.5'],
    ['offset negative', 'topic=t&partition=0&offset=-1'],
    ['offset not a number', 'topic=t&partition=0&offset=abc'],
    ['offset with a plus sign', 'topic=t&partition=0&offset=%2B1'],
    ['offset in exponent form', 'topic=t&partition=0&offset=1e3'],
    ['offset beyond MAX_SAFE_INTEGER', 'topic=t&partition=0&offset=9007199254740993'],
    ['offset of 30 digits', `topic=t&partition=0&offset=${'9'.repeat(30)}`],
    ['partition negative', 'topic=t&partition=-1&offset=0'],
    ['max zero', 'topic=t&partition=0&offset=0&max=0'],
    ['max above 10000', 'topic=t&partition=0&offset=0&max=10001'],
    ['max fractional', 'topic=t&partition=0&offset=0&max=2.5'],
    ['wait_ms above 30000', 'topic=t&partition=0&offset=0&wait_ms=30001'],
    ['wait_ms negative', 'topic=t&partition=0&offset=0&wait_ms=-5'],
  ];
  for (const [name, query] of consumeCases) {
    test(`GET /consume refuses with 400 INVALID_REQUEST when ${name}`, async () => {
      await expectRefused('GET', `/consume?${query}`, undefined, 400, 'INVALID_REQUEST');
    });
  }

  const topicCases: [string, string][] = [
    ['name missing', JSON.stringify({ partitions: 3 })],
    ['name invalid', JSON.stringify({ name: 'a/b', partitions: 3 })],
    ['partitions missing', JSON.stringify({ name: 't' })],
    ['partitions zero', JSON.stringify({ name: 't', partitions: 0 })],
    ['partitions above 1000', JSON.stringify({ name: 't', partitions: 1001 })],
    ['partitions a string', JSON.stringify({ name: 't', partitions: '3' })],
  ];
  for (const [name, body] of topicCases) {
    test(`POST /topics refuses with 400 INVALID_REQUEST when ${name}`, async () => {
      await expectRefused('POST', '/topics', body, 400, 'INVALID_REQUEST');
    });
  }

  test('POST /topics refuses a body that is not JSON with 400 INVALID_JSON', async () => {
    await expectRefused('POST', '/topics', '{name:', 400, 'INVALID_JSON');
  });

  test('a record over maxMessageBytes (payload + key + headers) is 413 MESSAGE_TOO_LARGE', async () => {
    await expectRefused('POST', '/produce', JSON.stringify({ topic: 't', payload: 'x'.repeat(1100) }), 413, 'MESSAGE_TOO_LARGE');
    await expectRefused('POST', '/produce', JSON.stringify({ topic: 't', key: 'k'.repeat(600), payload: 'x'.repeat(500) }), 413, 'MESSAGE_TOO_LARGE');
    await expectRefused('POST', '/produce/batch', JSON.stringify({ topic: 't', records: [{ payload: 1 }, { payload: 'x'.repeat(1100) }] }), 413, 'MESSAGE_TOO_LARGE');
  });

  test('a body over the limit is 413 at once, and the connection stays usable', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const huge = JSON.stringify({ topic: 't', payload: 'x'.repeat(300_000) });
      const first = await rawPost(`${server.base}/produce`, huge, agent, false);
      assert.equal(first.status, 413);
      assert.equal(JSON.parse(first.body).error, 'MESSAGE_TOO_LARGE');
      const chunked = await rawPost(`${server.base}/produce`, huge, agent, true);
      assert.equal(chunked.status, 413);
      const ok = await rawPost(`${server.base}/produce`, JSON.stringify({ topic: 't', payload: 1 }), agent, false);
      assert.equal(ok.status, 200);
      assert.equal(ok.reused, true, 'the keep-alive connection survives a 413');
    } finally {
      agent.destroy();
    }
  });
});

/** POST with node:http (fetch cannot choose chunked vs Content-Length, nor report socket reuse). */
function rawPost(url: string, body: string, agent: http.Agent, chunked: boolean): Promise<{ status: number; body: string; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': Buffer.byteLength(body) };
    const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    if (chunked) {
      for (let i = 0; i < body.length; i += 16_384) req.write(body.slice(i, i + 16_384));
      req.end();
    } else {
      req.end(body);
    }
  });
}
