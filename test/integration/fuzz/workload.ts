import assert from 'node:assert/strict';
import type http from 'node:http';
import { send, type Reply } from './raw-http.js';

/** A record an accepted produce wrote, and the request record it came from (null if unknown). */
export interface Accepted {
  topic: string;
  partition: number;
  offset: number;
  sent: { payload?: unknown; key?: unknown; headers?: unknown } | null;
}

/**
 * Reads accepted records back (from brokers in turn, so followers too) and compares them with what
 * was sent: an acknowledged record is stored exactly, not a lossy re-encoding of it. Compared as
 * JSON text, since that is what the broker stores (so -0 and 0 are the same payload).
 */
export async function checkRoundTrips(ports: number[], accepted: Accepted[], max: number): Promise<void> {
  const sample = accepted.filter((a) => a.sent).slice(0, max);
  for (const [i, a] of sample.entries()) {
    const port = ports[i % ports.length]!;
    const r = await send(port, { method: 'GET', path: `/consume?topic=${a.topic}&partition=${a.partition}&offset=${a.offset}&max=1` });
    assert.equal(r.status, 200, r.text);
    const rec = (JSON.parse(r.text) as { records: { offset: number; key: unknown; payload: unknown; headers: unknown }[] }).records[0];
    assert.ok(rec && rec.offset === a.offset, `${a.topic}/${a.partition}@${a.offset} missing on :${port}`);
    const where = `${a.topic}/${a.partition}@${a.offset} on :${port}`;
    assert.equal(JSON.stringify(rec.payload), JSON.stringify(a.sent!.payload), `payload of ${where}`);
    assert.equal(rec.key, a.sent!.key ?? null, `key of ${where}`);
    assert.equal(JSON.stringify(rec.headers), JSON.stringify(a.sent!.headers ?? {}), `headers of ${where}`);
  }
}

/**
 * `n` requests at once over a keep-alive agent: half produce to the leader (topic fz-c), half
 * consume from every broker in turn. Returns every answer and the records the produces wrote.
 */
export async function concurrentWave(agent: http.Agent, leaderPort: number, ports: number[], n: number, wave: number): Promise<{ replies: Reply[]; records: Accepted[]; ms: number }> {
  const started = Date.now();
  const records: Accepted[] = [];
  const replies = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      if (i % 2 === 0) {
        const sent = { key: `k${i}`, payload: { wave, i } };
        const body = Buffer.from(JSON.stringify({ topic: 'fz-c', ...sent }));
        const r = await send(leaderPort, { method: 'POST', path: '/produce', headers: { 'content-type': 'application/json' }, body, agent, timeoutMs: 60_000 });
        if (r.status === 200) {
          const a = JSON.parse(r.text) as { topic: string; partition: number; offset: number };
          records.push({ ...a, sent });
        }
        return r;
      }
      return send(ports[i % ports.length]!, { method: 'GET', path: `/consume?topic=fz&partition=${i % 3}&offset=0&max=10`, agent, timeoutMs: 60_000 });
    }),
  );
  return { replies, records, ms: Date.now() - started };
}
