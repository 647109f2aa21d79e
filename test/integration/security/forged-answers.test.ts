import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { YakClient } from '../../../broker-runtime/src/client/index.js';
import { decodeRecords } from '../../../broker-runtime/src/log/record-codec.js';
import { decodeFrame } from '../../../broker-runtime/src/replication/wire.js';
import { BrokerProcess } from '../../../testkit/broker/process.js';
import { readAll } from '../../../testkit/broker/verify.js';
import { get } from '../../../testkit/http.js';
import { freePort } from '../../../testkit/ports.js';
import { RedisServer } from '../../../testkit/redis/server.js';
import { sleep, waitFor } from '../../../testkit/wait.js';

const TOPIC = 'forged-answers';
/** Brokers advertise themselves here, where the man in the middle listens (loopback: 127/8 is all local). */
const MITM_HOST = '127.0.0.2';

/**
 * A man in the middle between brokers (no TLS): each broker advertises 127.0.0.2:<its port>, where
 * an HTTP proxy passes everything on to 127.0.0.1:<its port>, except that once `forging` is set it
 * keeps every replication frame that carries records from the follower and answers it itself
 * "ok, my log ends where yours does" (built from the follower's last genuine answer, its signature
 * line dropped). It refuses the stream upgrade, so the leader posts its frames (as to an older broker).
 *
 * Before followers signed their answers the leader believed it: with --min-insync 2 it acknowledged
 * a record only it held (lost if it then failed). Now the forged answer is refused, logged once,
 * and the produce is not acknowledged.
 */
class AnswerForger {
  forging = false;
  forged = 0;
  private lastGenuine = new Map<number, Buffer>();
  private readonly servers: http.Server[] = [];

  async listen(port: number): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void this.serve(port, req, Buffer.concat(chunks), res));
    });
    server.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n'));
    await new Promise<void>((r) => server.listen(port, MITM_HOST, () => r()));
    this.servers.push(server);
  }

  private async serve(port: number, req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<void> {
    const append = req.method === 'POST' && req.url === '/replica/append';
    const last = this.lastGenuine.get(port);
    if (append && this.forging && last) {
      const { header, payloads } = decodeFrame(body);
      if (payloads.some((p) => p.length > 0)) {
        this.forged++;
        const text = last.toString('latin1');
        const cut = text.lastIndexOf('\n');
        const answer = JSON.parse(cut >= 0 ? text.slice(0, cut) : text) as Record<string, unknown>;
        answer.parts = header.parts.map((p, i) => ({ topic: p.topic, partition: p.partition, status: 'ok', logEndOffset: p.prevOffset + decodeRecords(payloads[i]!).length }));
        const bytes = Buffer.from(JSON.stringify(answer));
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
        res.end(bytes);
        return;
      }
    }
    const headers = { ...req.headers };
    delete headers.connection;
    const up = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers, agent: false }, (r) => {
      const out: Buffer[] = [];
      r.on('data', (c: Buffer) => out.push(c));
      r.on('end', () => {
        const answer = Buffer.concat(out);
        if (append && r.statusCode === 200) this.lastGenuine.set(port, answer);
        const h = { ...r.headers };
        delete h.connection;
        delete h['transfer-encoding'];
        res.writeHead(r.statusCode ?? 502, { ...h, 'content-length': answer.length });
        res.end(answer);
      });
    });
    up.on('error', () => res.destroy());
    up.end(body);
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

describe('a man in the middle answering for a follower (no TLS between brokers)', () => {
  let redis: RedisServer;
  let dir: string;
  const brokers: BrokerProcess[] = [];
  const forger = new AnswerForger();

  before(async () => {
    redis = await RedisServer.start();
    dir = await mkdtemp(join(tmpdir(), 'yak-forged-answers-'));
    const cluster = `f${Math.random().toString(36).slice(2, 8)}`;
    for (const id of ['b1', 'b2']) {
      const port = await freePort();
      await forger.listen(port);
      brokers.push(
        new BrokerProcess({
          id, port, dataDir: join(dir, id), redisUrl: redis.url, cluster, leaseSeconds: 2, renewSeconds: 0.5, partitions: 1, minInsync: 2,
          extra: ['--advertised-url', `http://${MITM_HOST}:${port}`],
        }),
      );
    }
    for (const b of brokers) b.start();
  });
  after(async () => {
    await Promise.all(brokers.map((b) => b.stop()));
    await forger.close();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('a forged "ok, log end N" for records the follower never got acknowledges nothing, and the leader says so once', async () => {
    const leaderOf = async () => {
      for (const b of brokers) {
        try {
          if (((await get(b.url, '/health', 1000)).body as { role: string }).role === 'leader') return b;
        } catch {
          // not up yet
        }
      }
      return null;
    };
    const leader = await waitFor('a leader', leaderOf, 30_000);
    const follower = brokers.find((b) => b !== leader)!;
    const client = new YakClient({ brokers: [leader.url], timeoutMs: 3000, retry: { retries: 60, minDelayMs: 50, maxDelayMs: 250 } });
    for (let i = 0; i < 3; i++) await client.produce(TOPIC, { payload: { genuine: i }, partition: 0 });
    await sleep(500); // genuine (signed) heartbeat answers meanwhile

    forger.forging = true;
    const once = new YakClient({ brokers: [leader.url], timeoutMs: 3000, retry: { retries: 0 } });
    const acked = await once.produce(TOPIC, { payload: { forged: true }, partition: 0 }).then(
      () => true,
      () => false,
    );
    assert.ok(forger.forged > 0, 'the man in the middle answered for the follower');
    const held = (await readAll(follower.url, TOPIC)).get(0) ?? [];
    const committed = (await readAll(leader.url, TOPIC)).get(0) ?? [];
    assert.equal(acked, false, `the produce was acknowledged while ${follower.id} holds ${held.length} records`);
    assert.equal(committed.length, 3, 'the leader committed nothing on the forged answer\'s word');
    const lines = leader.output.filter((l) => l.includes(`refused an answer from follower ${follower.id}`));
    assert.equal(lines.length, 1, `logged once:\n${leader.tail(20)}`);
  });
});
