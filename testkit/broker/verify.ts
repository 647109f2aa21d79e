import { get } from '../http.js';
import { waitFor } from '../wait.js';

export interface Acked {
  partition: number;
  offset: number;
  payload: unknown;
}

/** Every committed record of a topic on one broker, by partition (reads from 0 up to its high-water mark). */
export async function readAll(url: string, topic: string): Promise<Map<number, { offset: number; payload: unknown }[]>> {
  const topics = (await get(url, '/topics')).body as { topics: { name: string; partitions: { partition: number; high_watermark: number }[] }[] };
  const t = topics.topics.find((x) => x.name === topic);
  const out = new Map<number, { offset: number; payload: unknown }[]>();
  for (const p of t?.partitions ?? []) {
    const records: { offset: number; payload: unknown }[] = [];
    let offset = 0;
    while (offset < p.high_watermark) {
      const c = await get(url, `/consume?topic=${topic}&partition=${p.partition}&offset=${offset}&max=10000`);
      if (c.status !== 200) throw new Error(`consume from ${url}: ${c.text}`);
      for (const r of c.body.records) records.push({ offset: r.offset, payload: r.payload });
      if (c.body.records.length === 0) break;
      offset = c.body.next_offset;
    }
    out.set(p.partition, records);
  }
  return out;
}

/** Waits until every given broker reports the same high-water mark for every partition of `topic`. */
export async function waitForEqualHwm(urls: string[], topic: string, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    `equal high-water marks of ${topic} on ${urls.length} brokers`,
    async () => {
      const views = await Promise.all(urls.map(async (u) => JSON.stringify(((await get(u, '/topics')).body.topics as { name: string }[]).find((t) => t.name === topic))));
      return views.every((v) => v === views[0] && v !== undefined);
    },
    timeoutMs,
    100,
  );
}

/**
 * Waits until every given broker's high-water mark of each partition lies past every acknowledged
 * record there, then until they are equal. After every broker restarted, equal marks alone prove
 * nothing: all can report the same trailing checkpointed mark (0 after a SIGKILL before the first
 * checkpoint) until the new leader has heard its followers, and a read up to it finds nothing.
 */
export async function waitForHwmCovering(urls: string[], topic: string, acked: readonly Acked[], timeoutMs = 20_000): Promise<void> {
  const needed = new Map<number, number>();
  for (const a of acked) needed.set(a.partition, Math.max(needed.get(a.partition) ?? 0, a.offset + 1));
  await waitFor(
    `high-water marks of ${topic} on ${urls.length} brokers covering every acknowledged record`,
    async () => {
      for (const url of urls) {
        const t = ((await get(url, '/topics')).body.topics as { name: string; partitions: { partition: number; high_watermark: number }[] }[]).find((x) => x.name === topic);
        if (!t) return false;
        for (const [partition, end] of needed) if ((t.partitions.find((x) => x.partition === partition)?.high_watermark ?? 0) < end) return false;
      }
      return true;
    },
    timeoutMs,
    100,
  );
  await waitForEqualHwm(urls, topic, timeoutMs);
}

/**
 * The invariant of guarantee 1 and 2: on each broker, every acknowledged record is at its offset
 * with its payload, and offsets are contiguous from 0. Returns a description of every violation.
 */
export function checkAcked(brokerId: string, data: Map<number, { offset: number; payload: unknown }[]>, acked: Acked[]): string[] {
  const problems: string[] = [];
  for (const [p, records] of data) {
    records.forEach((r, i) => {
      if (r.offset !== i) problems.push(`${brokerId} p${p}: offset ${r.offset} at position ${i} (not contiguous)`);
    });
  }
  for (const a of acked) {
    const got = data.get(a.partition)?.[a.offset];
    if (!got) problems.push(`${brokerId}: acknowledged p${a.partition}@${a.offset} is missing`);
    else if (JSON.stringify(got.payload) !== JSON.stringify(a.payload)) {
      problems.push(`${brokerId}: p${a.partition}@${a.offset} holds ${JSON.stringify(got.payload)}, acknowledged ${JSON.stringify(a.payload)}`);
    }
  }
  return problems;
}
