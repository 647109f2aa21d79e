import { get } from '../testkit/http.js';
import { sleep } from '../testkit/wait.js';
import { readAll } from '../testkit/broker/verify.js';
import type { ChaosCluster } from './cluster.js';
import type { History } from './history.js';
import { keyOfPayload } from './workload.js';

type PartitionView = { partition: number; high_watermark: number; log_end_offset?: number };

async function partitionsOf(url: string, topic: string): Promise<PartitionView[] | null> {
  try {
    const res = await get(url, '/topics', 2000);
    const t = (res.body as { topics: { name: string; partitions: PartitionView[] }[] }).topics.find((x) => x.name === topic);
    return t ? t.partitions : null;
  } catch {
    return null;
  }
}

/**
 * Wait until every broker reports the same high-water mark and log end for every partition, with
 * nothing uncommitted (hwm = log end), three polls in a row. Returns false if that never happens.
 */
export async function waitForStableHighWatermarks(cluster: ChaosCluster, topic: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  let same = 0;
  while (Date.now() < deadline) {
    const views = await Promise.all(cluster.brokers.map((b) => partitionsOf(b.directUrl, topic)));
    const sig = views.map((v) => JSON.stringify(v)).join('|');
    const settled = views.every((v) => v !== null && v.every((p) => p.high_watermark === (p.log_end_offset ?? p.high_watermark)));
    const equal = views.every((v) => JSON.stringify(v) === JSON.stringify(views[0]));
    if (settled && equal && sig === last) same++;
    else same = 0;
    last = sig;
    if (same >= 2) return true;
    await sleep(300);
  }
  return false;
}

/** Read every partition from offset 0 on every broker, straight (no proxy), into the history. */
export async function finalReads(cluster: ChaosCluster, topic: string, history: History): Promise<void> {
  for (const b of cluster.brokers) {
    const views = (await partitionsOf(b.directUrl, topic)) ?? [];
    const data = await readAll(b.directUrl, topic);
    for (const v of views) {
      const records = data.get(v.partition) ?? [];
      history.add({
        f: 'final-read',
        process: 'final',
        type: 'ok',
        broker: b.id,
        p: v.partition,
        hwm: v.high_watermark,
        leo: v.log_end_offset ?? v.high_watermark,
        // A record out of place gets its offset in the key, so the checker sees it.
        value: records.map((r, i) => (r.offset === i ? keyOfPayload(r.payload) : `@${r.offset}:${keyOfPayload(r.payload)}`)),
      });
    }
  }
}
