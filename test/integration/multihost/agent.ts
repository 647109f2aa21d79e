/**
 * The multi-host test's hands inside one network namespace (started with `ip netns exec NS node
 * --import tsx agent.ts`), so every byte the test sends stays inside the namespaces it made.
 * Requests are JSON lines on stdin `{id, op, ...}`; answers JSON lines on stdout `{id, ok, result | error}`.
 *
 *  - proxy {listenPort, targetHost, targetPort}: a chaos TcpProxy here (to delay this host's Redis link)
 *  - delay {ms}: every proxied chunk `ms` later each way (0 = none)
 *  - link-proxy {listenHost, listenPort, targetPort}: a second TcpProxy, in front of this host's broker
 *    (the URL it advertises), so the other brokers reach it across a slow link
 *  - link {ms, stall?}: that link's mode: every chunk `ms` later each way, `stall` as in chaos/proxy.ts (0 = none)
 *  - burst {brokers, topic, n}: `n` concurrent single produces by one client: `{acks: [{seq, partition, offset, ms}], failures, lastError}`
 *  - batches {brokers, topic, batches, records, bytes}: `batches` batch produces of `records` records of `bytes` bytes, one after another
 *  - http {url, method, body?, timeoutMs?}: one request, `{status, body}` or `{error}`
 *  - produce-start {brokers, topic}: one producer (the real client) until produce-stop
 *  - produce-peek {since}: how many acknowledged so far, and those after `since` (ms since 1970); the producer goes on
 *  - produce-stop: `{acks: [{seq, partition, offset, at}], failures, lastError}`
 *  - client-produce {brokers, topic, payload}: one produce by a fresh client seeded with `brokers`
 *  - read-all {url, topic}: every committed record of every partition of `topic` at `url`
 */
import { createInterface } from 'node:readline';
import { TcpProxy } from '../../../chaos/proxy.js';
import { YakClient } from '../../../broker-runtime/src/client/index.js';

let proxy: TcpProxy | null = null;
let linkProxy: TcpProxy | null = null;
let producer: { stop: boolean; done: Promise<void>; acks: { seq: number; partition: number; offset: number; at: number }[]; failures: number; lastError: string } | null = null;

const reply = (id: number, body: Record<string, unknown>) => process.stdout.write(JSON.stringify({ id, ...body }) + '\n');

async function http(url: string, method = 'GET', body?: unknown, timeoutMs = 3000): Promise<{ status: number; body: unknown } | { error: string }> {
  try {
    const res = await fetch(url, {
      method,
      signal: AbortSignal.timeout(timeoutMs),
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { error: `${(err as Error).name}: ${(err as Error).message}${cause ? ` (${cause})` : ''}` };
  }
}

function startProducer(brokers: string[], topic: string): void {
  const client = new YakClient({ brokers, timeoutMs: 1500, retry: { retries: 60, minDelayMs: 20, maxDelayMs: 300 } });
  const state = { stop: false, done: Promise.resolve(), acks: [] as { seq: number; partition: number; offset: number; at: number }[], failures: 0, lastError: '' };
  state.done = (async () => {
    for (let seq = 0; !state.stop; seq++) {
      try {
        const r = await client.produce(topic, { payload: { seq } });
        state.acks.push({ seq, partition: r.partition, offset: r.offset, at: Date.now() });
      } catch (err) {
        state.failures++;
        state.lastError = (err as Error).message.slice(0, 300);
      }
      // One record at a time, a few hundred a second: enough to see every gap, little CPU.
      await new Promise((r) => setTimeout(r, 3));
    }
  })();
  producer = state;
}

/** `n` single produces at once, each timed from the moment all were sent. */
async function burst(brokers: string[], topic: string, n: number) {
  const client = new YakClient({ brokers, timeoutMs: 10_000, retry: { retries: 20, minDelayMs: 50, maxDelayMs: 500 } });
  await client.leader();
  const t0 = Date.now();
  const acks: { seq: number; partition: number; offset: number; ms: number }[] = [];
  let failures = 0;
  let lastError = '';
  await Promise.all(
    Array.from({ length: n }, async (_, seq) => {
      try {
        const r = await client.produce(topic, { payload: { seq }, partition: seq % 3 });
        acks.push({ seq, partition: r.partition, offset: r.offset, ms: Date.now() - t0 });
      } catch (err) {
        failures++;
        lastError = (err as Error).message.slice(0, 300);
      }
    }),
  );
  return { acks, failures, lastError, totalMs: Date.now() - t0 };
}

/** Batch produces one after another; every record `{seq, pad}`, `bytes` of padding. */
async function batches(brokers: string[], topic: string, count: number, records: number, bytes: number) {
  const client = new YakClient({ brokers, timeoutMs: 30_000, retry: { retries: 20, minDelayMs: 50, maxDelayMs: 500 } });
  const pad = 'x'.repeat(bytes);
  const acks: { seq: number; partition: number; offset: number; ms: number }[] = [];
  const t0 = Date.now();
  for (let b = 0; b < count; b++) {
    const started = Date.now();
    const batch = Array.from({ length: records }, (_, i) => ({ payload: { seq: b * records + i, pad }, partition: i % 3 }));
    const r = await client.produceBatch(topic, batch);
    r.results.forEach((x, i) => acks.push({ seq: b * records + i, partition: x.partition, offset: x.offset, ms: Date.now() - started }));
  }
  return { acks, totalMs: Date.now() - t0 };
}

async function readAll(url: string, topic: string): Promise<{ partition: number; offset: number; payload: unknown }[]> {
  const topics = (await (await fetch(`${url}/topics`)).json()) as { topics: { name: string; partitions: { partition: number; high_watermark: number }[] }[] };
  const t = topics.topics.find((x) => x.name === topic);
  const out: { partition: number; offset: number; payload: unknown }[] = [];
  for (const p of t?.partitions ?? []) {
    for (let offset = 0; offset < p.high_watermark; ) {
      const page = (await (await fetch(`${url}/consume?topic=${topic}&partition=${p.partition}&offset=${offset}&max=5000`)).json()) as { records: { offset: number; payload: unknown }[]; next_offset: number };
      // Only the seq of a padded record: the padding would only fill the answer.
      for (const r of page.records) out.push({ partition: p.partition, offset: r.offset, payload: (r.payload as { pad?: unknown })?.pad === undefined ? r.payload : { seq: (r.payload as { seq: number }).seq } });
      if (page.next_offset === offset) break;
      offset = page.next_offset;
    }
  }
  return out;
}

async function handle(msg: Record<string, any>): Promise<unknown> {
  switch (msg.op) {
    case 'proxy':
      proxy = await TcpProxy.start({ name: 'redis', targetPort: msg.targetPort, targetHost: msg.targetHost }, msg.listenPort);
      return { port: proxy.port };
    case 'delay':
      proxy!.set(msg.ms > 0 ? { kind: 'delay', ms: msg.ms } : { kind: 'ok' });
      return {};
    case 'link-proxy':
      linkProxy = await TcpProxy.start({ name: 'link', targetPort: msg.targetPort, targetHost: msg.listenHost, listenHost: msg.listenHost }, msg.listenPort);
      return { port: linkProxy.port };
    case 'link':
      linkProxy!.set(msg.ms > 0 || msg.stall ? { kind: 'delay', ms: msg.ms, ...(msg.stall ? { stall: msg.stall } : {}) } : { kind: 'ok' });
      return {};
    case 'burst':
      return burst(msg.brokers, msg.topic, msg.n);
    case 'batches':
      return batches(msg.brokers, msg.topic, msg.batches, msg.records, msg.bytes);
    case 'http':
      return http(msg.url, msg.method, msg.body, msg.timeoutMs);
    case 'produce-start':
      startProducer(msg.brokers, msg.topic);
      return {};
    case 'produce-peek': {
      const acks = producer?.acks ?? [];
      return { count: acks.length, acks: acks.filter((a) => a.at > (msg.since ?? 0)).slice(0, 20_000) };
    }
    case 'produce-stop': {
      const p = producer!;
      p.stop = true;
      await p.done;
      producer = null;
      return { acks: p.acks, failures: p.failures, lastError: p.lastError };
    }
    case 'client-produce': {
      const client = new YakClient({ brokers: msg.brokers, timeoutMs: 3000, retry: { retries: 20, minDelayMs: 50, maxDelayMs: 500 } });
      const answer = await client.produce(msg.topic, { payload: msg.payload });
      return { answer, leader: client.knownLeader };
    }
    case 'read-all':
      return readAll(msg.url, msg.topic);
    default:
      throw new Error(`unknown op ${msg.op}`);
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const msg = JSON.parse(line) as Record<string, any>;
  handle(msg).then(
    (result) => reply(msg.id, { ok: true, result }),
    (err: Error) => reply(msg.id, { ok: false, error: err.message }),
  );
});
process.stdin.on('end', () => process.exit(0));
reply(0, { ok: true, result: 'ready' });
