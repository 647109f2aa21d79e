import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { YakClient } from '../../../broker-runtime/src/client/index.js';
import { encodeRecords } from '../../../broker-runtime/src/log/record-codec.js';
import { FRAME_AUTH_HEADER, signFrame } from '../../../broker-runtime/src/replication/frame-auth.js';
import { encodeFrame, type ReplicateHeader } from '../../../broker-runtime/src/replication/wire.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { get } from '../../../testkit/http.js';
import { sleep } from '../../../testkit/wait.js';
import { checkAcked, readAll, waitForEqualHwm, type Acked } from '../../../testkit/broker/verify.js';

/**
 * Issue 9's attacks, replayed against a real cluster: whoever can only reach a broker's HTTP port
 * (another program, or a web page) cannot rewrite, brick or depose it. Each test states the
 * invariant it checks: every acknowledged record still reads back at its offset on every broker,
 * nothing forged is visible, and produces keep succeeding.
 */
const TOPIC = 'sec';

/** The frame of attack 1: epoch E+1, cut the log to 0, three well-formed records, hwm 3. */
function rewriteFrame(epoch: number, leader = { id: 'evil', url: 'http://127.0.0.1:1' }): Buffer {
  const records = encodeRecords(
    [0, 1, 2].map((i) => ({ key: null, payload: JSON.stringify({ forged: i }), headers: {}, timestamp: Date.now() })),
    0,
    epoch,
  );
  const header: ReplicateHeader = {
    epoch,
    leader,
    metaVersion: 'forged',
    parts: [{ topic: TOPIC, partition: 0, prevOffset: 0, prevEpoch: -1, hwm: 3, length: records.length, truncateTo: 0, truncateEpoch: -1 }],
  };
  return encodeFrame(header, [records]);
}

function heartbeatFrame(epoch: number): Buffer {
  return encodeFrame({ epoch, leader: { id: 'evil', url: 'http://127.0.0.1:1' }, metaVersion: 'x', parts: [] }, []);
}

async function sendFrame(url: string, frame: Buffer, headers: Record<string, string>): Promise<number> {
  const res = await fetch(new URL('/replica/append', url), { method: 'POST', headers, body: frame });
  await res.arrayBuffer();
  return res.status;
}

describe('forged replication frames change nothing', () => {
  let cluster: TestCluster;
  let client: YakClient;
  const acked: Acked[] = [];

  const produceSome = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const payload = { seq: acked.length };
      const r = await client.produce(TOPIC, { payload, partition: 0 });
      acked.push({ partition: r.partition, offset: r.offset, payload });
    }
  };

  const assertIntact = async (what: string) => {
    await waitForEqualHwm(cluster.urls(), TOPIC);
    for (const b of cluster.brokers) {
      const data = await readAll(b.url, TOPIC);
      assert.deepEqual(checkAcked(b.id, data, acked), [], `${what}: ${b.id}`);
      for (const records of data.values()) {
        assert.ok(!records.some((r) => JSON.stringify(r.payload).includes('forged')), `${what}: a forged record is visible on ${b.id}`);
      }
    }
  };

  before(async () => {
    cluster = await TestCluster.start({ brokers: 3, leaseSeconds: 2, renewSeconds: 0.5 });
    client = new YakClient({ brokers: cluster.urls(), timeoutMs: 3000, retry: { retries: 40, minDelayMs: 20, maxDelayMs: 200 } });
    await produceSome(10);
  });
  after(async () => cluster?.stop());

  test('attack 1: a rewrite frame (epoch E+1, truncateTo 0, valid records) is refused by every broker, with or without a content type or a made-up proof', async () => {
    const { epoch } = await cluster.waitForLeader();
    const frame = rewriteFrame(epoch + 1);
    for (const b of cluster.brokers) {
      assert.equal(await sendFrame(b.url, frame, {}), 415, `${b.id}: no content type`);
      assert.equal(await sendFrame(b.url, frame, { 'content-type': 'application/octet-stream' }), 401, `${b.id}: no proof`);
      const madeUp = signFrame(epoch + 1, randomBytes(32), frame);
      assert.equal(await sendFrame(b.url, frame, { 'content-type': 'application/octet-stream', [FRAME_AUTH_HEADER]: madeUp }), 401, `${b.id}: a key nobody stored`);
      const answer = await fetch(new URL('/replica/append', b.url), { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: frame });
      assert.equal((await answer.json() as { error: string }).error, 'UNAUTHENTICATED');
    }
    const before = (await cluster.waitForLeader()).epoch;
    assert.equal(before, epoch, 'no broker learned the forged epoch or stepped down');
    await produceSome(5);
    assert.equal(acked.at(-1)!.offset, 14, 'the next produces continue the real log');
    await assertIntact('after attack 1');
  });

  test('attack 1, signed for the current epoch with a stolen-looking key: refused', async () => {
    const { epoch } = await cluster.waitForLeader();
    const frame = rewriteFrame(epoch);
    for (const b of cluster.brokers) {
      const status = await sendFrame(b.url, frame, { 'content-type': 'application/octet-stream', [FRAME_AUTH_HEADER]: signFrame(epoch, randomBytes(32), frame) });
      assert.equal(status, 401, b.id);
    }
    await assertIntact('after a wrongly signed current-epoch frame');
  });

  test('attack 2: a heartbeat with epoch 2^32 is refused, and no epoch outside the storable range reaches Redis or disk', async () => {
    const redis = new Redis(cluster.redis.url);
    try {
      for (const epoch of [2 ** 32, 2 ** 32 - 1, 2 ** 40]) {
        for (const b of cluster.brokers) {
          const status = await sendFrame(b.url, heartbeatFrame(epoch), { 'content-type': 'application/octet-stream', [FRAME_AUTH_HEADER]: `${epoch}.${'A'.repeat(43)}` });
          assert.equal(status, 401, `${b.id} epoch ${epoch}`);
        }
      }
      await produceSome(3);
      const keys = await redis.keys('*:epoch');
      for (const k of keys) assert.ok(Number(await redis.get(k)) < 100, `${k} = ${await redis.get(k)}`);
      for (const b of cluster.brokers) {
        const h = (await get(b.url, '/health')).body as { epoch: number };
        assert.ok(h.epoch < 100, `${b.id} reports epoch ${h.epoch}`);
        const state = JSON.parse(await readFile(join(cluster.dir, b.id, 'broker-state.json'), 'utf8')) as { highestEpoch: number };
        assert.ok(state.highestEpoch < 100, `${b.id} persisted ${state.highestEpoch}`);
      }
    } finally {
      redis.disconnect();
    }
    await assertIntact('after attack 2');
  });

  test('attack 3: frames with epoch+1 sent to the leader every 200 ms do not depose it; every produce succeeds', async () => {
    const { broker: leader, epoch } = await cluster.waitForLeader();
    let running = true;
    let sent = 0;
    const attacker = (async () => {
      while (running) {
        const status = await sendFrame(leader.url, heartbeatFrame(epoch + 1), { 'content-type': 'application/octet-stream' });
        assert.equal(status, 401);
        sent++;
        await sleep(200);
      }
    })();
    let failed = 0;
    const started = acked.length;
    const until = Date.now() + 4000;
    try {
      while (Date.now() < until) {
        const payload = { seq: acked.length };
        const r = await fetch(new URL('/produce', leader.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topic: TOPIC, partition: 0, payload }) });
        const body = (await r.json()) as { offset: number; partition: number };
        if (r.status === 200) acked.push({ partition: body.partition, offset: body.offset, payload });
        else failed++;
      }
    } finally {
      running = false;
      await attacker;
    }
    assert.ok(sent >= 10, `the attacker sent ${sent} frames`);
    assert.equal(failed, 0, `${failed} produces failed during the attack (${acked.length - started} succeeded)`);
    assert.equal((await cluster.waitForLeader()).epoch, epoch, 'the leader kept its epoch');
    await assertIntact('after attack 3');
  });

  test('attack 4: a text/plain produce from another origin is refused with 403 and writes nothing', async () => {
    const { broker: leader } = await cluster.waitForLeader();
    const hwm = async () => ((await get(leader.url, '/topics')).body.topics as { name: string; partitions: { high_watermark: number }[] }[]).find((t) => t.name === TOPIC)!.partitions[0]!.high_watermark;
    const before = await hwm();
    const res = await fetch(new URL('/produce', leader.url), {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: 'http://evil.example' },
      body: JSON.stringify({ topic: TOPIC, partition: 0, payload: { forged: true } }),
    });
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { error: string }).error, 'FORBIDDEN');
    const created = await fetch(new URL('/produce', leader.url), {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: 'http://evil.example' },
      body: JSON.stringify({ topic: 'evil-topic', payload: 1 }),
    });
    assert.equal(created.status, 403);
    await sleep(200);
    assert.equal(await hwm(), before);
    assert.ok(!((await get(leader.url, '/topics')).body.topics as { name: string }[]).some((t) => t.name === 'evil-topic'), 'no topic was created');
  });
});

describe('a cluster hit before the fix recovers by itself', () => {
  let cluster: TestCluster | undefined;
  after(async () => cluster?.stop());

  test('an out-of-range epoch already in Redis and in every state file is dropped: a valid epoch is taken and produces succeed', async () => {
    cluster = await TestCluster.start({ brokers: 3, leaseSeconds: 1, renewSeconds: 0.25 });
    const client = new YakClient({ brokers: cluster.urls(), timeoutMs: 3000, retry: { retries: 60, minDelayMs: 20, maxDelayMs: 200 } });
    const acked: Acked[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await client.produce(TOPIC, { payload: { i }, partition: 0 });
      acked.push({ partition: r.partition, offset: r.offset, payload: { i } });
    }
    const { epoch: realEpoch } = await cluster.waitForLeader();
    for (const b of cluster.brokers) await b.kill();
    // What the forged heartbeat left behind before frames were authenticated.
    const poisoned = 2 ** 32 + 1;
    const redis = new Redis(cluster.redis.url);
    try {
      const [epochKey] = await redis.keys('*:epoch');
      await redis.set(epochKey!, String(poisoned));
      const isrKey = epochKey!.replace(/epoch$/, 'isr');
      const isr = JSON.parse((await redis.get(isrKey))!) as { members: string[] };
      await redis.set(isrKey, JSON.stringify({ epoch: poisoned, members: isr.members, version: 1 }));
    } finally {
      redis.disconnect();
    }
    for (const b of cluster.brokers) {
      const file = join(cluster.dir, b.id, 'broker-state.json');
      const state = JSON.parse(await readFile(file, 'utf8')) as { highestEpoch: number; isr: { epoch: number } | null };
      // As written before epochs were range-checked (and before the file had a checksum).
      await writeFile(file, JSON.stringify({ highestEpoch: poisoned - 1, isr: state.isr ? { ...state.isr, epoch: poisoned } : null }));
    }
    for (const b of cluster.brokers) b.start();
    const { epoch } = await cluster.waitForLeader(30_000);
    assert.ok(epoch > realEpoch && epoch < 2 ** 32, `new epoch ${epoch} is above the last real one (${realEpoch}) and storable`);
    for (let i = 10; i < 15; i++) {
      const r = await client.produce(TOPIC, { payload: { i }, partition: 0 });
      acked.push({ partition: r.partition, offset: r.offset, payload: { i } });
    }
    await cluster.waitForInSync(3, 20_000);
    await waitForEqualHwm(cluster.urls(), TOPIC);
    for (const b of cluster.brokers) assert.deepEqual(checkAcked(b.id, await readAll(b.url, TOPIC), acked), []);
  });
});
