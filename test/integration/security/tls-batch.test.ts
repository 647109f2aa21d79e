import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { makeTestCerts } from '../../../testkit/certs.js';
import { jsonPost, pipelineBehindLargeAnswer } from '../../helpers/tls-paused/pipeline.js';

/** A POST of `body` as JSON on one of `agent`'s keep-alive connections: the answer's status and text. */
function postJson(base: string, agent: https.Agent, path: string, body: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = https.request(`${base}${path}`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

/**
 * Concurrent batch produces over TLS, four keep-alive connections at a time: every one answered
 * 200. Before broker-runtime/src/http/tls-pause.ts, with replication frames sent ahead on the
 * streams (8 in flight), the leader's HTTPS server reset client connections with the parser error
 * HPE_PAUSED in 1-3 runs of 4 (the client saw read ECONNRESET): node:http pauses a connection whose
 * last answer (here ~30 KB of offsets) has not drained when the next request arrives, and over TLS
 * the request's later TLS records still reached the paused parser.
 */
describe('batch produce over TLS', () => {
  let cluster: TestCluster;
  let ca: Buffer;

  before(async () => {
    const certs = makeTestCerts();
    ca = readFileSync(certs.caCert);
    cluster = await TestCluster.start({
      brokers: 3, partitions: 3, kafka: true, minInsync: 1,
      tls: { cert: certs.serverCert, key: certs.serverKey, caFile: certs.caCert, ca },
      extra: ['--fsync', 'interval', '--fsync-interval-ms', '1000'],
    });
  });
  after(async () => {
    await cluster?.stop();
  });

  test('40 rounds of 4 concurrent batches of 1,000 records on keep-alive connections: every one 200, every record read back', async () => {
    const { broker } = await cluster.waitForLeader();
    const agent = new https.Agent({ keepAlive: true, ca, maxSockets: 4 });
    const post = (path: string, body: unknown) => postJson(broker.url, agent, path, body);
    try {
      assert.equal((await post('/topics', { name: 'tls-batch', partitions: 3 })).status, 201);
      const records = Array.from({ length: 1000 }, (_, i) => ({ payload: { i, pad: 'x'.repeat(80) } }));
      let acknowledged = 0;
      for (let round = 0; round < 40; round++) {
        const answers = await Promise.all([0, 1, 2, 3].map(() => post('/produce/batch', { topic: 'tls-batch', records })));
        for (const a of answers) assert.equal(a.status, 200, a.text.slice(0, 300));
        acknowledged += 4 * records.length;
      }
      const topics = (await new Promise<string>((resolve, reject) => {
        https.get(`${broker.url}/topics`, { agent }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve(text));
        }).on('error', reject);
      }));
      const topic = (JSON.parse(topics) as { topics: { name: string; partitions: { high_watermark: number }[] }[] }).topics.find((t) => t.name === 'tls-batch')!;
      assert.equal(topic.partitions.reduce((n, p) => n + p.high_watermark, 0), acknowledged);
    } finally {
      agent.destroy();
    }
  });

  test('a large answer followed at once by a request with a body on the same keep-alive connection: answered, not reset', async () => {
    // Node pauses a connection whose last answer has not drained when the next request's head
    // arrives; over TLS the body still arrives, and the paused parser failed with HPE_PAUSED.
    const { broker } = await cluster.waitForLeader();
    const agent = new https.Agent({ keepAlive: true, ca, maxSockets: 1 });
    const call = (method: 'GET' | 'POST', path: string, body?: unknown) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const data = body === undefined ? undefined : JSON.stringify(body);
        const headers: Record<string, string | number> = data === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) };
        const req = https.request(`${broker.url}${path}`, { method, agent, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString('utf8') }));
        });
        req.on('error', reject);
        req.end(data);
      });
    try {
      assert.equal((await call('POST', '/topics', { name: 'tls-large', partitions: 1 })).status, 201);
      const records = Array.from({ length: 1000 }, (_, i) => ({ payload: { i, pad: 'y'.repeat(900) } }));
      for (let i = 0; i < 5; i++) assert.equal((await call('POST', '/produce/batch', { topic: 'tls-large', partition: 0, records })).status, 200);
      for (let round = 0; round < 10; round++) {
        const read = await call('GET', '/consume?topic=tls-large&partition=0&offset=0&max=5000');
        assert.equal(read.status, 200);
        assert.ok(read.text.length > 1_000_000, `a large answer (${read.text.length} bytes)`);
        const write = await call('POST', '/produce/batch', { topic: 'tls-large', partition: 0, records: records.slice(0, 200) });
        assert.equal(write.status, 200, write.text.slice(0, 300));
      }
    } finally {
      agent.destroy();
    }
  });

  test('one plain sequential client, 20 keep-alive connections of 10 batches each: every batch 200, no connection reset', async () => {
    // No concurrency and no pipelining: each batch is sent once the last answer (~30 KB of offsets)
    // has been read to its end. Before tls-pause.ts, with frames sent ahead (8 in flight), 16 of 20
    // connections were reset: the broker wrote the answer outside the poll phase, and node learnt
    // that the TLS write had completed only after it had read (and paused on) the next request.
    const { broker } = await cluster.waitForLeader();
    const post = (agent: https.Agent, path: string, body: unknown) => postJson(broker.url, agent, path, body);
    const setup = new https.Agent({ keepAlive: true, ca, maxSockets: 1 });
    try {
      assert.equal((await post(setup, '/topics', { name: 'tls-sequential', partitions: 1 })).status, 201);
    } finally {
      setup.destroy();
    }
    const records = Array.from({ length: 1000 }, (_, i) => ({ payload: { i, pad: 'x'.repeat(80) } }));
    const failures: string[] = [];
    for (let conn = 0; conn < 20; conn++) {
      const agent = new https.Agent({ keepAlive: true, ca, maxSockets: 1 });
      try {
        for (let batch = 0; batch < 10; batch++) {
          const answer = await post(agent, '/produce/batch', { topic: 'tls-sequential', partition: 0, records });
          assert.equal(answer.status, 200, answer.text.slice(0, 300));
        }
      } catch (err) {
        failures.push(`connection ${conn}: ${(err as Error).message}`);
      } finally {
        agent.destroy();
      }
    }
    assert.deepEqual(failures, []);
  });

  test('a produce pipelined behind two large consume answers the client does not read yet: answered, not reset', async () => {
    // Legal HTTP/1.1 pipelining that makes the pause certain: the first answers cannot drain while
    // the produce's head and body (TLS records that arrive together) are read. Reset before the fix.
    const { broker } = await cluster.waitForLeader();
    const url = new URL(broker.url);
    const agent = new https.Agent({ keepAlive: true, ca, maxSockets: 1 });
    const post = (path: string, body: unknown) =>
      new Promise<number>((resolve, reject) => {
        const data = JSON.stringify(body);
        const req = https.request(`${broker.url}${path}`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', reject);
        req.end(data);
      });
    try {
      assert.equal(await post('/topics', { name: 'tls-pipelined', partitions: 1 }), 201);
      const records = Array.from({ length: 1000 }, (_, i) => ({ payload: { i, pad: 'w'.repeat(900) } }));
      for (let i = 0; i < 10; i++) assert.equal(await post('/produce/batch', { topic: 'tls-pipelined', partition: 0, records }), 200);
    } finally {
      agent.destroy();
    }
    const consume = (offset: number) => `GET /consume?topic=tls-pipelined&partition=0&offset=${offset}&max=10000 HTTP/1.1\r\nhost: localhost\r\n\r\n`;
    for (let round = 0; round < 3; round++) {
      const outcome = await pipelineBehindLargeAnswer(
        { host: url.hostname, port: Number(url.port), ca },
        consume(0) + consume(4000),
        jsonPost('/produce/batch', { topic: 'tls-pipelined', partition: 0, records: Array.from({ length: 200 }, (_, i) => ({ payload: { i, pad: 'v'.repeat(900) } })) }),
        3,
      );
      assert.deepEqual(outcome, { statuses: [200, 200, 200], reset: false }, `round ${round}`);
    }
  });
});
