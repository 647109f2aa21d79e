import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createBrokerServer } from '../../../broker-runtime/src/http/index.js';
import { makeTestCerts, type TestCerts } from '../../../testkit/certs.js';
import { jsonPost, pipelineBehindLargeAnswer } from '../../helpers/tls-paused/pipeline.js';
import { startReproServer } from '../../helpers/tls-paused/start.js';
import { stubService } from './stub-service.js';

/**
 * node:http pauses a keep-alive connection whose last answer has not drained when the next request
 * arrives; over TLS the pause did not stop the request's later TLS records from reaching the paused
 * parser, which failed with HPE_PAUSED and the connection was reset (broker-runtime/src/http/tls-pause.ts).
 */
describe('a request that arrives while the last answer drains, over TLS', () => {
  let certs: TestCerts;
  let ca: Buffer;
  before(() => {
    certs = makeTestCerts();
    ca = readFileSync(certs.caCert);
  });
  after(() => certs?.remove());

  test('a bare node:https server (own process) resets a plain sequential keep-alive client when busy after a large answer; with keepPausedTlsConnectionsPaused it answers', async () => {
    const body = Buffer.alloc(256 * 1024, 'b');
    const rounds = async (fix: boolean, count: number, stopAtReset: boolean) => {
      // The answer is written from a timer, then the server stays busy: node learns that the write
      // completed only after it has read the next request (see test/helpers/tls-paused/server.mts).
      const server = await startReproServer({ cert: certs.serverCert, key: certs.serverKey, answer: 'timer', busyMs: 20, bytes: 64 * 1024, fix });
      let resets = 0;
      try {
        for (let round = 0; round < count && !(stopAtReset && resets > 0); round++) {
          const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
          const call = (method: string, path: string, data?: Buffer) =>
            new Promise<number>((resolve, reject) => {
              const req = https.request({ host: '127.0.0.1', port: server.port, servername: 'localhost', method, path, agent, headers: data ? { 'content-length': data.length } : {} }, (res) => {
                res.resume();
                res.on('end', () => resolve(res.statusCode!));
              });
              req.on('error', reject);
              req.end(data);
            });
          try {
            assert.equal(await call('GET', '/big'), 200);
            assert.equal(await call('POST', '/upload', body), 200);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') throw err;
            resets++;
          } finally {
            agent.destroy();
          }
        }
        return { resets, paused: server.errors().filter((e) => e === 'HPE_PAUSED').length };
      } finally {
        server.stop();
      }
    };
    // A reset needs the client's next request to arrive within the server's busy 20 ms; on a loaded
    // machine a round can miss that window, so the repro counts as working after one reset in 10.
    const without = await rounds(false, 10, true);
    // If this fails, node:http no longer resets these connections: tls-pause.ts may be unnecessary.
    assert.ok(without.resets > 0, 'node:https without the fix resets a sequential client');
    assert.ok(without.paused > 0);
    assert.deepEqual(await rounds(true, 5, false), { resets: 0, paused: 0 });
  });

  test("the broker's HTTPS server answers a pipelined produce sent while a large consume answer cannot drain", async () => {
    const stub = stubService();
    for (let offset = 0; offset < 2000; offset++) stub.stored.push({ offset, key: null, payload: JSON.stringify({ pad: 'z'.repeat(4000) }), timestamp: 0, headers: {} });
    const server = createBrokerServer(stub.service, { maxMessageBytes: 1024 * 1024, logger: () => {}, tls: { cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey) } });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const records = Array.from({ length: 200 }, (_, i) => ({ payload: { i, pad: 'p'.repeat(1000) } }));
      for (let round = 0; round < 3; round++) {
        const outcome = await pipelineBehindLargeAnswer(
          { host: '127.0.0.1', port, ca },
          'GET /consume?topic=orders&partition=0&offset=0&max=2000 HTTP/1.1\r\nhost: localhost\r\n\r\n',
          jsonPost('/produce/batch', { topic: 'orders', records }),
        );
        assert.deepEqual(outcome, { statuses: [200, 200], reset: false });
      }
    } finally {
      (server as http.Server).closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
