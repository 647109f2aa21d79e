import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { call } from '../../../testkit/http.js';
import { rawAnswer } from '../../helpers/raw-answer.js';

/** Resolves `*.yak.test` to 127.0.0.1 inside the brokers, as Compose resolves service names. */
const NAMED_BROKER = fileURLToPath(new URL('../../helpers/named-broker.mjs', import.meta.url));
const nameOf = (id: string) => `${id}.yak.test`;

/** GET with the Host header a browser on a (rebound) name would send; fetch cannot set Host. */
function getWithHost(port: number, path: string, host: string): Promise<{ status: number; body: any; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          /* asserted on text */
        }
        resolve({ status: res.statusCode ?? 0, body, text });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * DNS rebinding: a page on `http://evil.example:PORT` whose name is re-pointed at 127.0.0.1 is, to an
 * older browser, same-origin with the broker: its GETs carry neither Origin nor Sec-Fetch-Site, only
 * `Host: evil.example:PORT`. A broker answers only IP literals, localhost, its advertised name and
 * --allow-host names. Brokers advertised by name (as in docker-compose) still replicate to each
 * other, by stream and by POST, and pass their own advertised-URL check.
 */
for (const stream of ['on', 'off'] as const) {
  describe(`Host check, brokers advertised by name (--replication-stream ${stream})`, () => {
    let cluster: TestCluster;
    let port: number;

    before(async () => {
      cluster = await TestCluster.start({
        brokers: 2,
        minInsync: 2,
        bin: NAMED_BROKER,
        advertisedName: nameOf,
        extra: ['--allow-host', 'ops.example,Bücher.example', '--replication-stream', stream],
      });
      port = (await cluster.waitForLeader()).broker.opts.port;
    });
    after(async () => {
      await cluster?.stop();
    });

    test('the brokers replicate to each other by name: a produce needing both is acknowledged, each checks its advertised URL', async () => {
      const { broker } = await cluster.waitForLeader();
      const produced = await call(broker.url, 'POST', '/produce', { topic: 'named', payload: 'x' });
      assert.equal(produced.status, 200, produced.text);
      for (const b of cluster.brokers) {
        const health = (await call(b.url, 'GET', '/health')).body as { advertised_url: { url: string; check: string } };
        assert.equal(health.advertised_url.url, `http://${nameOf(b.id)}:${b.opts.port}`);
        assert.equal(health.advertised_url.check, 'ok', JSON.stringify(health));
      }
    });

    test('a Host the broker does not answer to is refused with 403 FORBIDDEN naming it and --allow-host, and nothing is served', async () => {
      for (const path of ['/metadata/cluster', '/consume?topic=named&partition=0&offset=0', '/metrics', '/health']) {
        const res = await getWithHost(port, path, `evil.example:${port}`);
        assert.equal(res.status, 403, `${path}: ${res.text}`);
        assert.equal(res.body?.error, 'FORBIDDEN', res.text);
        assert.match(res.body.message, /Host 'evil\.example:\d+'.*--allow-host evil\.example/);
        assert.doesNotMatch(res.text, /yak\.test|named|yak_/, 'nothing of the cluster is in the answer');
      }
      for (const host of [`b1.yak.test.evil.example:${port}`, `localhost.evil.example:${port}`, `127.0.0.1.nip.io:${port}`]) {
        assert.equal((await getWithHost(port, '/metadata/cluster', host)).status, 403, host);
      }
    });

    test('IP literals, localhost, the advertised names and --allow-host names are answered', async () => {
      const leader = (await cluster.waitForLeader()).broker;
      const hosts = [
        `127.0.0.1:${port}`, '127.0.0.1', `localhost:${port}`, `LocalHost.:${port}`, `app.localhost:${port}`,
        `${nameOf(leader.id)}:${port}`, `${nameOf(leader.id).toUpperCase()}.:${port}`,
        'ops.example', `OPS.example:${port}`, `xn--bcher-kva.example:${port}`,
      ];
      for (const host of hosts) {
        const res = await getWithHost(port, '/metadata/cluster', host);
        assert.equal(res.status, 200, `${host}: ${res.text}`);
        assert.ok(Array.isArray(res.body?.brokers), host);
      }
    });

    test('a request without a Host header (HTTP/1.0) is served', async () => {
      const socket = net.connect(port, '127.0.0.1');
      const { answer } = rawAnswer(socket);
      socket.write('GET /metadata/cluster HTTP/1.0\r\n\r\n');
      const res = await answer;
      socket.destroy();
      assert.equal(res?.status, 200, res?.head);
      assert.match(res!.body, /"brokers"/);
    });
  });
}

describe('Host check: --allow-host *', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await TestCluster.start({ brokers: 1, extra: ['--allow-host', '*'] });
  });
  after(async () => {
    await cluster?.stop();
  });

  test('answers any Host', async () => {
    const { port } = cluster.brokers[0]!.opts;
    assert.equal((await getWithHost(port, '/metadata/cluster', `anything.example:${port}`)).status, 200);
  });
});
