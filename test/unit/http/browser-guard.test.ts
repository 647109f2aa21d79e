import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { type RunningServer, request, startServer, stubService } from './stub-service.js';

/**
 * Web pages cannot drive a broker: whatever a page sends carries Origin or Sec-Fetch-Site, and
 * such requests are refused with 403 before the service sees them, unless --allow-origin lists
 * the page's origin. Programs (no such headers) are unaffected.
 */
describe('browser guard', () => {
  const stub = stubService();
  let closed: RunningServer;
  let open: RunningServer;
  before(async () => {
    closed = await startServer(stub.service, 1024);
    open = await startServer(stub.service, 1024, ['http://localhost:3000']);
  });
  after(async () => {
    await closed.close();
    await open.close();
  });
  const produce = JSON.stringify({ topic: 'orders', payload: 1 });

  test('a text/plain produce from another origin is refused with 403 and reaches nothing', async () => {
    const before = stub.calls.length;
    const res = await request(`${closed.base}/produce`, { method: 'POST', headers: { 'content-type': 'text/plain', origin: 'http://evil.example' }, body: produce });
    assert.equal(res.status, 403);
    assert.equal(res.json['error'], 'FORBIDDEN');
    assert.equal(stub.calls.length, before);
  });

  test('a replication frame from a page (no-cors, text/plain) is refused with 403 before it is read', async () => {
    const before = stub.calls.length;
    const res = await request(`${closed.base}/replica/append`, { method: 'POST', headers: { 'content-type': 'text/plain', origin: 'http://127.0.0.1:8000' }, body: Buffer.from([0, 0, 0, 2, 123, 125]) });
    assert.equal(res.status, 403);
    assert.equal(stub.calls.length, before);
  });

  test('every route refuses a disallowed origin, GETs included', async () => {
    for (const path of ['/consume?topic=orders&partition=0&offset=0', '/topics', '/metadata/cluster', '/health', '/metrics', '/nope']) {
      const res = await request(`${closed.base}${path}`, { headers: { origin: 'http://evil.example' } });
      assert.equal(res.status, 403, path);
    }
  });

  test('a browser request without Origin (no-cors GET, DNS rebinding) is refused by its Sec-Fetch-Site', async () => {
    for (const site of ['cross-site', 'same-site', 'same-origin']) {
      const res = await request(`${closed.base}/consume?topic=orders&partition=0&offset=0`, { headers: { 'sec-fetch-site': site } });
      assert.equal(res.status, 403, site);
    }
  });

  test('a URL typed into the address bar (sec-fetch-site: none) and programs without either header are served', async () => {
    assert.equal((await request(`${closed.base}/health`, { headers: { 'sec-fetch-site': 'none' } })).status, 200);
    assert.equal((await request(`${closed.base}/health`)).status, 200);
    assert.equal((await request(`${closed.base}/produce`, { method: 'POST', body: produce })).status, 200);
  });

  test('an origin listed in --allow-origin is served with CORS headers and its preflight answered', async () => {
    const res = await request(`${open.base}/produce`, { method: 'POST', headers: { origin: 'http://localhost:3000', 'content-type': 'application/json' }, body: produce });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://localhost:3000');
    const pre = await fetch(`${open.base}/produce`, { method: 'OPTIONS', headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST' } });
    assert.equal(pre.status, 204);
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /authorization/);
    assert.equal((await request(`${open.base}/produce`, { method: 'POST', headers: { origin: 'http://localhost:3001' }, body: produce })).status, 403);
  });

  test('a Host that is no IP, localhost or allowed name (DNS rebinding) is refused with 403 before anything, preflights and allowed origins included', async () => {
    const before = stub.calls.length;
    for (const [base, method, headers] of [
      [closed.base, 'GET', {}],
      [closed.base, 'POST', { 'content-type': 'application/json' }],
      [open.base, 'OPTIONS', { origin: 'http://localhost:3000', 'access-control-request-method': 'POST' }],
    ] as const) {
      const res = await withHost(`${base}/produce`, method, 'evil.example:8080', headers, method === 'POST' ? produce : undefined);
      assert.equal(res.status, 403, method);
      assert.deepEqual(Object.keys(JSON.parse(res.text)).sort(), ['error', 'message']);
      assert.equal(JSON.parse(res.text).error, 'FORBIDDEN');
      assert.match(JSON.parse(res.text).message, /Host 'evil\.example:8080'.*--allow-host evil\.example/);
      assert.equal(res.cors, undefined, 'no CORS header for a refused Host');
    }
    assert.equal(stub.calls.length, before);
    assert.equal((await withHost(`${closed.base}/health`, 'GET', 'localhost:1')).status, 200);
    assert.equal((await withHost(`${closed.base}/health`, 'GET', '[::1]:1')).status, 200);
  });

  test('replication frames need exactly application/octet-stream: no content type is 415', async () => {
    const res = await fetch(`${closed.base}/replica/append`, { method: 'POST', body: new Uint8Array([1, 2, 3]) });
    assert.equal(res.status, 415);
  });
});

/** A request with the Host header a page on a rebound name would send (fetch cannot set Host). */
function withHost(url: string, method: string, host: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; text: string; cors: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { ...headers, host }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, cors: res.headers['access-control-allow-origin'] }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
