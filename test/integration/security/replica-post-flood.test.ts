import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { FRAME_AUTH_HEADER } from '../../../broker-runtime/src/replication/frame-auth.js';
import { MAX_UNPROVEN_POSTS } from '../../../broker-runtime/src/http/replica-admission.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import type { BrokerProcess } from '../../../testkit/broker/process.js';
import { checkAcked, readAll, waitForEqualHwm, type Acked } from '../../../testkit/broker/verify.js';
import { get, post } from '../../../testkit/http.js';
import { waitFor } from '../../../testkit/wait.js';
import { rawAnswer } from '../../helpers/raw-answer.js';

const TOPIC = 'flooded';
/** What each attacker declares: the body it would make the follower hold if it were read before being checked. */
const DECLARED = 2 * 1024 * 1024;

interface Raw {
  socket: net.Socket;
  answer: Promise<{ status: number; head: string; body: string } | null>;
  received: () => string;
}

/** An attacker's POST /replica/append: headers that look right (the epoch is public), then `first` bytes of the body. */
function forgedPost(url: string, epoch: number, first: Buffer): Raw {
  const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
  socket.on('error', () => {});
  const { answer, received } = rawAnswer(socket);
  socket.write(
    `POST /replica/append HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/octet-stream\r\ncontent-length: ${DECLARED}\r\n` +
      `${FRAME_AUTH_HEADER}: ${epoch}.${randomBytes(32).toString('base64url')}\r\n\r\n`,
  );
  socket.write(first);
  return { socket, answer, received };
}

async function metric(url: string, line: RegExp): Promise<number> {
  const text = (await get(url, '/metrics?format=prometheus')).text;
  return Number(line.exec(text)?.[1] ?? 0);
}

/**
 * POST /replica/append against a real follower, from a client that can reach its port but not
 * Redis: it can make the follower read at most MAX_UNPROVEN_POSTS bodies at once before their MAC
 * is checked, the rest is refused 429 at once, and the leader (replicating by POST here,
 * --replication-stream off) goes on committing through the follower while the attacker holds every
 * place. No forged frame is answered 200 or changes a log.
 */
describe('a flood of slow unauthenticated replication POSTs', () => {
  let cluster: TestCluster;
  let leader: BrokerProcess;
  let follower: BrokerProcess;
  let epoch: number;
  const acked: Acked[] = [];

  const produce = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const payload = { seq: acked.length };
      const r = await post(leader.url, '/produce', { topic: TOPIC, payload, partition: 0 });
      assert.equal(r.status, 200, `produce ${acked.length}: ${r.status} ${r.text}`);
      acked.push({ partition: 0, offset: r.body.offset as number, payload });
    }
  };

  before(async () => {
    cluster = await TestCluster.start({ brokers: 2, partitions: 1, minInsync: 2, extra: ['--replication-stream', 'off'] });
    ({ broker: leader, epoch } = await cluster.waitForLeader(45_000));
    follower = cluster.brokers.find((b) => b.id !== leader.id)!;
    await waitFor('both brokers in sync', async () => ((await get(leader.url, '/metadata/cluster')).body.brokers as { in_sync: boolean }[]).filter((b) => b.in_sync).length === 2, 45_000);
    await produce(5);
  });
  after(async () => cluster?.stop());

  test('the follower reads at most 8 forged bodies at once and throttles the rest; the leader still commits through it; nothing forged is obeyed', async () => {
    const held = Array.from({ length: MAX_UNPROVEN_POSTS }, () => forgedPost(follower.url, epoch, randomBytes(1024)));
    try {
      // Once the held ones are read into, every further forged POST is refused 429 before its body is read.
      const refusal = await waitFor('the unauthenticated places are taken', async () => {
        const probe = forgedPost(follower.url, epoch, Buffer.alloc(0));
        const a = await Promise.race([probe.answer, new Promise<null>((r) => setTimeout(() => r(null), 2000))]);
        probe.socket.destroy();
        return a?.status === 429 ? a : null;
      }, 20_000);
      assert.equal((JSON.parse(refusal.body) as { error: string }).error, 'THROTTLED');
      assert.match(refusal.head, /\r\nretry-after: 1\r\n/i);
      const flood = Array.from({ length: 3 * MAX_UNPROVEN_POSTS }, () => forgedPost(follower.url, epoch, randomBytes(64 * 1024)));
      for (const a of await Promise.all(flood.map((f) => f.answer))) {
        assert.equal(a?.status, 429, a?.body ?? 'closed without an answer');
        assert.equal((JSON.parse(a!.body) as { error: string }).error, 'THROTTLED');
      }
      for (const f of flood) f.socket.destroy();

      // The genuine leader's POSTs carry its sender proof and skip the queue: with min-insync 2
      // every produce commits only once the follower has appended it.
      await produce(20);
      assert.ok(held.every((h) => h.received() === ''), 'the held forgeries got no answer meanwhile');
      assert.ok(await metric(leader.url, /^yak_replication_frames_sent_total\{via="post"\} (\d+)$/m) > 0, 'the leader replicated by POST');
      assert.ok(await metric(follower.url, /^yak_http_refused_total\{reason="replica_throttled"\} (\d+)$/m) >= 3 * MAX_UNPROVEN_POSTS);

      // The forgeries finish their bodies: each is checked and refused 401, none obeyed.
      for (const h of held) h.socket.write(randomBytes(DECLARED - 1024));
      for (const a of await Promise.all(held.map((h) => h.answer))) {
        assert.equal(a?.status, 401, a?.body ?? 'closed without an answer');
        assert.equal((JSON.parse(a!.body) as { error: string }).error, 'UNAUTHENTICATED');
      }
    } finally {
      for (const h of held) h.socket.destroy();
    }

    await produce(5);
    await waitForEqualHwm(cluster.urls(), TOPIC);
    for (const b of cluster.brokers) {
      const data = await readAll(b.url, TOPIC);
      assert.deepEqual(checkAcked(b.id, data, acked), [], b.id);
      assert.equal(data.get(0)?.length, acked.length, `${b.id} holds exactly the acknowledged records`);
    }
    assert.equal((await cluster.waitForLeader()).epoch, epoch, 'no broker stepped down or learned another epoch');
  });
});
