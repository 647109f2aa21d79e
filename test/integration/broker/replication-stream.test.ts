import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { YakClient } from '../../../broker-runtime/src/client/index.js';
import { encodeRecords } from '../../../broker-runtime/src/log/record-codec.js';
import { signFrame } from '../../../broker-runtime/src/replication/frame-auth.js';
import { MessageReader, encodeMessage, type StreamMessage } from '../../../broker-runtime/src/replication/stream-framing.js';
import { STREAM_PATH, STREAM_PROTOCOL } from '../../../broker-runtime/src/replication/stream-protocol.js';
import { encodeFrame, type ReplicateHeader } from '../../../broker-runtime/src/replication/wire.js';
import { makeTestCerts } from '../../../testkit/certs.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { call, get } from '../../../testkit/http.js';
import { waitFor } from '../../../testkit/wait.js';
import { checkAcked, readAll, waitForEqualHwm, type Acked } from '../../../testkit/broker/verify.js';

/**
 * Replication over the stream (one upgraded connection per follower, replication/stream-*.ts)
 * between real broker processes: records reach every broker over it, a follower killed mid-stream
 * is reconnected to, forged frames on an upgraded connection change nothing, and a follower that
 * does not upgrade (--replication-stream off answers GET /replica/stream with 404, as brokers from
 * before streams do) gets its frames by POST. Each test checks the invariant of the guarantees:
 * every acknowledged record is at its offset on every broker.
 */
const TOPIC = 'stream';

/** The leader's yak_replication_frames_sent_total, by `via`. */
async function framesSent(url: string, ca?: Buffer): Promise<{ stream: number; post: number }> {
  const r = await call(url, 'GET', '/metrics?format=prometheus', undefined, undefined, 3000, undefined, ca);
  const text = r.text;
  const count = (via: string) => Number(new RegExp(`^yak_replication_frames_sent_total\\{via="${via}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  return { stream: count('stream'), post: count('post') };
}

async function produceSome(client: YakClient, acked: Acked[], n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const payload = { seq: acked.length };
    const r = await client.produce(TOPIC, { payload });
    acked.push({ partition: r.partition, offset: r.offset, payload });
  }
}

async function assertIntact(cluster: TestCluster, acked: Acked[], what: string): Promise<void> {
  const running = cluster.brokers.filter((b) => b.running());
  await waitForEqualHwm(running.map((b) => b.url), TOPIC);
  for (const b of running) {
    const data = await readAll(b.url, TOPIC);
    assert.deepEqual(checkAcked(b.id, data, acked), [], `${what}: ${b.id}`);
    for (const records of data.values()) assert.ok(!records.some((r) => JSON.stringify(r.payload).includes('forged')), `${what}: a forged record on ${b.id}`);
  }
}

/** A raw upgraded connection to a broker: send messages, read answers. */
class RawStream {
  private readonly reader = new MessageReader(1 << 24);
  readonly answers: StreamMessage[] = [];
  closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }

  static open(url: string): Promise<RawStream> {
    const u = new URL(url);
    const socket = net.connect(Number(u.port), u.hostname);
    socket.write(`GET ${STREAM_PATH} HTTP/1.1\r\nhost: ${u.host}\r\nconnection: Upgrade\r\nupgrade: ${STREAM_PROTOCOL}\r\n\r\n`);
    return new Promise((resolve, reject) => {
      let head = Buffer.alloc(0);
      const onData = (d: Buffer) => {
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        const status = head.subarray(0, end).toString('latin1');
        if (!status.startsWith('HTTP/1.1 101')) return reject(new Error(`no upgrade: ${status}`));
        const s = new RawStream(socket);
        socket.on('data', (more: Buffer) => s.answers.push(...s.reader.push(more)));
        if (head.length > end + 4) s.answers.push(...s.reader.push(head.subarray(end + 4)));
        resolve(s);
      };
      socket.on('data', onData);
      socket.once('error', reject);
    });
  }

  send(id: number, auth: string, frame: Buffer): void {
    for (const part of encodeMessage(id, auth, frame)) this.socket.write(part);
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  async answer(id: number): Promise<StreamMessage> {
    return waitFor(`the answer to frame ${id}`, async () => this.answers.find((a) => a.id === id) ?? null, 10_000, 20);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Attack 1 of the forged-frames test, on a stream: cut partition 0 to 0 and write three records there. */
function rewriteFrame(epoch: number): Buffer {
  const records = encodeRecords([0, 1, 2].map((i) => ({ key: null, payload: JSON.stringify({ forged: i }), headers: {}, timestamp: Date.now() })), 0, epoch);
  const header: ReplicateHeader = {
    epoch,
    leader: { id: 'evil', url: 'http://127.0.0.1:1' },
    metaVersion: 'forged',
    parts: [{ topic: TOPIC, partition: 0, prevOffset: 0, prevEpoch: -1, hwm: 3, length: records.length, truncateTo: 0, truncateEpoch: -1 }],
  };
  return encodeFrame(header, [records]);
}

describe('replication over the stream', () => {
  let cluster: TestCluster;
  let client: YakClient;
  const acked: Acked[] = [];

  before(async () => {
    cluster = await TestCluster.start({ brokers: 3, leaseSeconds: 2, renewSeconds: 0.5 });
    client = new YakClient({ brokers: cluster.urls(), timeoutMs: 3000, retry: { retries: 60, minDelayMs: 20, maxDelayMs: 200 } });
  });
  after(async () => cluster?.stop());

  test('records reach every broker through the streams: the leader sends its frames there, none by POST', async () => {
    await produceSome(client, acked, 30);
    await assertIntact(cluster, acked, 'after 30 produces');
    const { broker: leader } = await cluster.waitForLeader();
    const sent = await framesSent(leader.url);
    assert.ok(sent.stream > 0, `frames by stream: ${JSON.stringify(sent)}`);
    assert.equal(sent.post, 0, `frames by POST: ${JSON.stringify(sent)}`);
  });

  test('a follower killed mid-stream: produces go on, and once restarted it is reconnected to and catches up', async () => {
    const { broker: leader } = await cluster.waitForLeader();
    const follower = cluster.brokers.find((b) => b.id !== leader.id)!;
    let producing = true;
    const background = (async () => {
      while (producing) await produceSome(client, acked, 1);
    })();
    await new Promise((r) => setTimeout(r, 300));
    await follower.kill();
    await new Promise((r) => setTimeout(r, 500));
    follower.start();
    await cluster.waitForInSync(3, 30_000);
    const before = await framesSent(leader.url);
    await new Promise((r) => setTimeout(r, 300));
    producing = false;
    await background;
    await produceSome(client, acked, 5);
    await assertIntact(cluster, acked, 'after the follower came back');
    const afterwards = await framesSent(leader.url);
    assert.ok(afterwards.stream > before.stream, 'frames still go by stream after the reconnect');
    assert.equal(afterwards.post, 0);
  });

  test('forged and unsigned frames on an upgraded connection are answered 401 by every broker and change nothing', async () => {
    const { epoch } = await cluster.waitForLeader();
    const hwmsBefore = JSON.stringify((await get(cluster.brokers[0]!.url, '/topics')).body);
    for (const b of cluster.brokers) {
      const s = await RawStream.open(b.url);
      const frame = rewriteFrame(epoch + 1);
      s.send(1, '', frame);
      s.send(2, signFrame(epoch + 1, randomBytes(32), frame), frame);
      s.send(3, signFrame(epoch, randomBytes(32), rewriteFrame(epoch)), rewriteFrame(epoch));
      const outOfRange = encodeFrame({ epoch: 2 ** 32, leader: { id: 'evil', url: 'http://127.0.0.1:1' }, metaVersion: 'x', parts: [] }, []);
      s.send(4, `${2 ** 32}.${'A'.repeat(43)}`, outOfRange);
      for (const id of [1, 2, 3, 4]) {
        const a = await s.answer(id);
        assert.equal(a.meta.toString(), '401', `${b.id} frame ${id}: ${a.body.toString()}`);
        assert.equal((JSON.parse(a.body.toString()) as { error: string }).error, 'UNAUTHENTICATED');
      }
      // Garbage after that: the stream is closed, nothing else happens.
      s.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
      await waitFor(`${b.id} closes a stream that breaks the framing`, async () => s.closed || null, 10_000, 20);
    }
    assert.equal((await cluster.waitForLeader()).epoch, epoch, 'no broker learned the forged epoch');
    assert.equal(JSON.stringify((await get(cluster.brokers[0]!.url, '/topics')).body), hwmsBefore, 'nothing moved');
    await produceSome(client, acked, 3);
    await assertIntact(cluster, acked, 'after forged frames on streams');
  });
});

describe('mixed versions: a follower that does not upgrade', () => {
  let cluster: TestCluster | undefined;
  after(async () => cluster?.stop());

  test('gets its frames by POST /replica/append, the others by stream, and nothing is lost', async () => {
    cluster = await TestCluster.start({ brokers: 3, leaseSeconds: 2, renewSeconds: 0.5 });
    // b3 restarted as an older broker would answer: GET /replica/stream is a plain 404.
    const old = cluster.broker('b3');
    await old.stop();
    old.opts.extra = [...(old.opts.extra ?? []), '--replication-stream', 'off'];
    old.start();
    await waitFor('b3 answers', async () => (await get(old.url, '/health').catch(() => null))?.status === 200 || null, 20_000);
    assert.equal((await get(old.url, STREAM_PATH)).status, 404, 'GET /replica/stream is unknown to it');
    const client = new YakClient({ brokers: cluster.urls(), timeoutMs: 3000, retry: { retries: 60, minDelayMs: 20, maxDelayMs: 200 } });
    await cluster.waitForInSync(3, 30_000);
    const acked: Acked[] = [];
    await produceSome(client, acked, 30);
    await assertIntact(cluster, acked, 'mixed versions');
    const { broker: leader } = await cluster.waitForLeader();
    const sent = await framesSent(leader.url);
    assert.ok(sent.post > 0, `b3 gets frames by POST: ${JSON.stringify(sent)}`);
    // Unless b3 itself leads (then it posts to everyone), the other follower is on a stream.
    if (leader.id !== 'b3') assert.ok(sent.stream > 0, `the other follower by stream: ${JSON.stringify(sent)}`);
  });
});

describe('replication streams over TLS', () => {
  const certs = makeTestCerts();
  let cluster: TestCluster | undefined;
  after(async () => {
    await cluster?.stop();
    certs.remove();
  });

  test('brokers serving HTTPS upgrade their TLS connections: frames go by stream and records reach every broker', async () => {
    const ca = readFileSync(certs.caCert);
    cluster = await TestCluster.start({ brokers: 3, leaseSeconds: 2, renewSeconds: 0.5, tls: { cert: certs.serverCert, key: certs.serverKey, caFile: certs.caCert, ca } });
    const client = new YakClient({ brokers: cluster.urls(), timeoutMs: 3000, ca, retry: { retries: 60, minDelayMs: 20, maxDelayMs: 200 } });
    for (let i = 0; i < 20; i++) await client.produce(TOPIC, { payload: { i } });
    const { broker: leader } = await cluster.waitForLeader();
    const sent = await framesSent(leader.url, ca);
    assert.ok(sent.stream > 0, JSON.stringify(sent));
    assert.equal(sent.post, 0, JSON.stringify(sent));
    await cluster.waitForInSync(3);
  });
});
