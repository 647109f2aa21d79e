import { randomBytes } from 'node:crypto';
import { encodeRecords } from '../broker-runtime/src/log/record-codec.js';
import { FRAME_AUTH_HEADER, signFrame } from '../broker-runtime/src/replication/frame-auth.js';
import { encodeFrame, type ReplicatePart } from '../broker-runtime/src/replication/wire.js';
import { get } from '../testkit/http.js';
import { RawReplicaStream } from '../testkit/replica-stream.js';
import type { ChaosCluster } from './cluster.js';
import type { Rng } from '../testkit/rng.js';

/**
 * The `forge-frames` fault: an attacker who can reach every broker's HTTP port (not Redis) sends
 * replication frames as fast as it can — current, next and out-of-range epochs, truncations to
 * random offsets, well-formed records with valid checksums — with no proof, a made-up one, or a
 * garbage one, by POST /replica/append or over a replication stream (GET /replica/stream upgraded
 * to yak-replication/1, as the leader sends its own frames; half the frames each way). Forged records carry `{c: 'forger', s}` payloads, so the checker reports any that
 * becomes visible as a phantom, and any truncation it caused as lost acknowledged records.
 */
export function startForger(cluster: ChaosCluster, rng: Rng): { stop(): Promise<{ sent: number; obeyed: number; sentByStream: number }> } {
  let running = true;
  let sent = 0;
  let obeyed = 0;
  let seq = 0;
  let sentByStream = 0;
  let streamIds = 0;
  /** One stream per broker, kept open while it works, as a leader keeps its own. */
  const streams = new Map<string, RawReplicaStream>();
  const streamTo = async (url: string): Promise<RawReplicaStream> => {
    const open = streams.get(url);
    if (open && !open.closed) return open;
    const s = await RawReplicaStream.open(url, 1000);
    streams.set(url, s);
    return s;
  };
  const dropStream = (url: string) => {
    streams.get(url)?.close();
    streams.delete(url);
  };
  const loop = (async () => {
    const view = await currentView(cluster);
    while (running) {
      const target = rng.pick(cluster.brokers);
      const epoch = rng.pick([view.epoch, view.epoch + 1, view.epoch + rng.int(2, 1000), 2 ** 32 - 1, 2 ** 32, Math.max(1, view.epoch - 1)]);
      const parts: ReplicatePart[] = [];
      const payloads: Buffer[] = [];
      for (const t of view.topics) {
        const partition = rng.int(0, t.partitions - 1);
        const records = epoch <= 2 ** 32 - 1
          ? encodeRecords(Array.from({ length: rng.int(1, 3) }, () => ({ key: null, payload: JSON.stringify({ c: 'forger', s: seq++ }), headers: {}, timestamp: Date.now() })), rng.int(0, 50), epoch)
          : Buffer.alloc(0);
        const truncateTo = rng.chance(0.5) ? rng.int(0, 50) : undefined;
        parts.push({ topic: t.name, partition, prevOffset: rng.int(0, 50), prevEpoch: rng.int(-1, view.epoch + 1), hwm: rng.int(0, 100_000), length: records.length, ...(truncateTo !== undefined ? { truncateTo, truncateEpoch: -1 } : {}) });
        payloads.push(records);
      }
      const frame = encodeFrame({ epoch, leader: { id: rng.pick(cluster.brokers).id, url: rng.pick(cluster.brokers).url }, metaVersion: 'forged', parts }, payloads);
      const proof = rng.pick([null, signFrame(Math.min(epoch, 2 ** 32 - 1), randomBytes(32), frame), `${epoch}.${randomBytes(32).toString('base64url')}`, 'garbage']);
      try {
        if (rng.chance(0.5)) {
          const headers: Record<string, string> = { 'content-type': rng.chance(0.9) ? 'application/octet-stream' : 'text/plain' };
          if (proof) headers[FRAME_AUTH_HEADER] = proof;
          const res = await fetch(new URL('/replica/append', target.directUrl), { method: 'POST', headers, body: frame, signal: AbortSignal.timeout(1000) });
          await res.arrayBuffer();
          sent++;
          if (res.status === 200) obeyed++;
        } else {
          const stream = await streamTo(target.directUrl);
          const id = ++streamIds;
          stream.send(id, proof ?? '', frame);
          const answer = await stream.answer(id, 1000);
          sentByStream++;
          sent++;
          if (answer.meta.toString('latin1') === '200') obeyed++;
        }
      } catch {
        /* the broker is down or paused by another fault: try another (a stream that failed is reopened) */
        dropStream(target.directUrl);
      }
      await new Promise((r) => setTimeout(r, rng.int(5, 30)));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      for (const url of [...streams.keys()]) dropStream(url);
      return { sent, obeyed, sentByStream };
    },
  };
}

async function currentView(cluster: ChaosCluster): Promise<{ epoch: number; topics: { name: string; partitions: number }[] }> {
  for (const b of cluster.brokers) {
    try {
      const health = await get(b.directUrl, '/health', 1000);
      const topics = await get(b.directUrl, '/topics', 1000);
      const list = (topics.body?.topics ?? []) as { name: string; partitions: unknown[] }[];
      return { epoch: Number(health.body?.epoch) || 1, topics: list.map((t) => ({ name: t.name, partitions: t.partitions.length })) };
    } catch {
      /* try the next broker */
    }
  }
  return { epoch: 1, topics: [] };
}
