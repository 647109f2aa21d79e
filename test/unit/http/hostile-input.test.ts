import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type RunningServer, request, startServer, stubService } from './stub-service.js';

/**
 * Regressions for what the HTTP fuzz test (test/integration/fuzz) found: each of these was a 500,
 * a bare status line, or a record stored differently from the one acknowledged.
 */
describe('hostile input found by fuzzing', () => {
  const stub = stubService();
  let server: RunningServer;
  before(async () => {
    server = await startServer(stub.service, 1024 * 1024);
  });
  after(() => server.close());

  const produce = (body: string | Buffer) => request(`${server.base}/produce`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

  test('a payload of 100k nested arrays is 400 INVALID_REQUEST, not a 500 (JSON.stringify overflowed the stack)', async () => {
    const calls = stub.calls.length;
    for (const path of ['/produce', '/produce/batch']) {
      const deep = '['.repeat(100_000) + ']'.repeat(100_000);
      const body = path === '/produce' ? `{"topic":"t","payload":${deep}}` : `{"topic":"t","records":[{"payload":${deep}}]}`;
      const res = await request(`${server.base}${path}`, { method: 'POST', body });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json['error'], 'INVALID_REQUEST');
      assert.match(String(res.json['message']), /nested too deeply/);
    }
    assert.equal(stub.calls.length, calls, 'the service was never asked');
    assert.deepEqual(server.logged, [], 'no internal error was logged');
  });

  test('a body that is not UTF-8 is 400 INVALID_JSON, not stored with U+FFFD in place of the bytes', async () => {
    const calls = stub.calls.length;
    for (const bad of [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
      const body = Buffer.concat([Buffer.from('{"topic":"t","payload":"a'), Buffer.from(bad), Buffer.from('"}')]);
      const res = await produce(body);
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json['error'], 'INVALID_JSON');
    }
    assert.equal(stub.calls.length, calls);
    const ok = await produce(Buffer.from('{"topic":"t","payload":"ü😀"}', 'utf8'));
    assert.equal(ok.status, 200, 'valid multi-byte UTF-8 still passes');
  });

  test('a key with a lone surrogate is 400 (UTF-8 cannot store it: it would come back as U+FFFD)', async () => {
    for (const key of ['\\ud800', 'a\\udc00b', '\\udfff\\ud800']) {
      const res = await produce(`{"topic":"t","key":"${key}","payload":1}`);
      assert.equal(res.status, 400, `${key}: ${res.text}`);
      assert.match(String(res.json['message']), /lone surrogate/);
    }
    const pair = await produce('{"topic":"t","key":"\\ud83d\\ude00","payload":1}');
    assert.equal(pair.status, 200, 'a surrogate pair is a real character and passes');
  });

  test('an unsupported Expect header gets a JSON 417, not a bare status line', async () => {
    const answer = await new Promise<string>((resolve) => {
      const port = Number(new URL(server.base).port);
      const s = net.connect(port, '127.0.0.1', () => s.write('POST /produce HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: teapot\r\nContent-Length: 2\r\n\r\n{}'));
      let out = '';
      s.on('data', (d) => (out += d.toString()));
      s.on('close', () => resolve(out));
      setTimeout(() => s.destroy(), 2000);
    });
    assert.match(answer, /^HTTP\/1\.1 417 /);
    assert.match(answer, /content-type: application\/json/i);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: string; message: string };
    assert.equal(body.error, 'EXPECTATION_FAILED');
    assert.match(body.message, /100-continue/);
  });
});
