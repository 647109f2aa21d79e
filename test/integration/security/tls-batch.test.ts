import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { makeTestCerts } from '../../../testkit/certs.js';

/**
 * Concurrent batch produces over TLS, four keep-alive connections at a time: every one answered
 * 200. With replication frames sent ahead on the streams (8 in flight), the leader's HTTPS server
 * failed client connections with the parser error HPE_PAUSED in 3 runs of 4 (the client saw read
 * ECONNRESET); see SEND_AHEAD_LIMIT in broker-runtime/src/replication/stream-transport.ts.
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
    const post = (path: string, body: unknown) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const data = JSON.stringify(body);
        const req = https.request(`${broker.url}${path}`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode!, text }));
        });
        req.on('error', reject);
        req.end(data);
      });
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
});
