import { YakClient, YakClientError } from '../broker-runtime/src/client/index.js';
import { call } from '../testkit/http.js';
import { atMost, sleep } from '../testkit/wait.js';
import type { History, OpInput, RecordRef } from './history.js';
import type { Rng } from '../testkit/rng.js';

export interface WorkloadOptions {
  topic: string;
  partitions: number;
  /** Producers that send each record exactly once (one HTTP request per operation, no retries). */
  producers: number;
  /** Producers using the YakClient (follows the leader and retries: at-least-once, duplicates allowed). */
  clientProducers: number;
  consumers: number;
  requestTimeoutMs: number;
  /** Pause between one producer's operations, so the brokers keep some CPU for their leases. */
  thinkMs: [number, number];
}

export interface WorkloadTargets {
  /** Advertised URLs (through the proxies): what a real client would use. */
  urls: string[];
  idOf(url: string): string;
}

/** The record's payload: who wrote it and its sequence number, plus some padding so segments roll. */
function payloadOf(ref: RecordRef, pad: number): { c: string; s: number; pad?: string } {
  const [c, s] = ref.k.split(':') as [string, string];
  return pad > 0 ? { c, s: Number(s), pad: 'x'.repeat(pad) } : { c, s: Number(s) };
}

/** The history key of a stored payload (`<client>:<seq>`), or its JSON when it is not one of ours. */
export function keyOfPayload(payload: unknown): string {
  const p = payload as { c?: unknown; s?: unknown } | null;
  return p && typeof p.c === 'string' && typeof p.s === 'number' ? `${p.c}:${p.s}` : `?${JSON.stringify(payload)}`;
}

/**
 * Producers and consumers running against the cluster until stopped, logging every operation.
 * A refusal the API defines as changing nothing (4xx) is a `fail`; anything else that is not a
 * 200 — 5xx, a timeout, a lost connection — is `info`: the write may or may not have happened.
 */
export class Workload {
  private running = false;
  /** Set when stop() gave up waiting: late completions are then not recorded. */
  private closed = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly history: History,
    private readonly rng: Rng,
    private readonly targets: WorkloadTargets,
    private readonly o: WorkloadOptions,
  ) {}

  start(): void {
    this.running = true;
    for (let i = 1; i <= this.o.producers; i++) this.loops.push(this.rawProducer(`w${i}`));
    for (let i = 1; i <= this.o.clientProducers; i++) this.loops.push(this.clientProducer(`y${i}`));
    for (let i = 1; i <= this.o.consumers; i++) this.loops.push(this.consumer(`r${i}`, (i - 1) % this.o.partitions));
  }

  /** Stop issuing operations and wait (at most `graceMs`) for those in flight. */
  async stop(graceMs = 8000): Promise<void> {
    this.running = false;
    await atMost(Promise.all(this.loops), graceMs);
    this.closed = true;
  }

  private record(op: OpInput): void {
    if (!this.closed) this.history.add(op);
  }

  private async rawProducer(name: string): Promise<void> {
    const rng = this.rng.stream(name);
    const { urls, idOf } = this.targets;
    let target = rng.pick(urls);
    // Its own stream, so the other choices of a seed stay as they were before batches were compressed.
    const codecs = this.rng.stream(`${name}-compression`);
    for (let seq = 0; this.running; ) {
      // Each request stored plain or as a gzip or lz4 batch (the topic leaves it to the producer).
      const compression = codecs.pick(['none', 'gzip', 'lz4'] as const);
      const n = rng.chance(0.25) ? rng.int(2, 6) : 1;
      const refs: RecordRef[] = Array.from({ length: n }, () => ({ k: `${name}:${seq++}`, p: rng.int(0, this.o.partitions - 1) }));
      const pads = refs.map(() => (rng.chance(0.3) ? rng.int(1, 400) : 0));
      const broker = idOf(target);
      this.record({ f: 'produce', process: name, type: 'invoke', value: refs, broker });
      try {
        const res =
          n === 1
            ? await call(target, 'POST', '/produce', { topic: this.o.topic, payload: payloadOf(refs[0]!, pads[0]!), partition: refs[0]!.p, compression }, undefined, this.o.requestTimeoutMs)
            : await call(target, 'POST', '/produce/batch', { topic: this.o.topic, records: refs.map((r, i) => ({ payload: payloadOf(r, pads[i]!), partition: r.p })), compression }, undefined, this.o.requestTimeoutMs);
        if (res.status === 200) {
          const results = (n === 1 ? [res.body] : res.body.results) as { partition: number; offset: number }[];
          this.record({ f: 'produce', process: name, type: 'ok', value: refs.map((r, i) => ({ k: r.k, p: results[i]!.partition, o: results[i]!.offset })), broker });
        } else {
          const code = `${res.status} ${(res.body as { error?: string } | undefined)?.error ?? ''}`.trim();
          // The API says a 4xx refusal changes nothing: a definite failure. 5xx may have half-happened.
          this.record({ f: 'produce', process: name, type: res.status >= 400 && res.status < 500 ? 'fail' : 'info', value: refs, broker, error: code });
          const leader = (res.body as { leader?: { url?: string } | null } | undefined)?.leader?.url;
          if (res.status === 421) target = leader && urls.includes(leader) ? leader : rng.pick(urls);
          else await sleep(rng.int(20, 100));
        }
      } catch (err) {
        this.record({ f: 'produce', process: name, type: 'info', value: refs, broker, error: errorName(err) });
        target = rng.pick(urls);
      }
      await sleep(rng.int(...this.o.thinkMs));
    }
  }

  private async clientProducer(name: string): Promise<void> {
    const rng = this.rng.stream(name);
    const client = new YakClient({ brokers: this.targets.urls, timeoutMs: this.o.requestTimeoutMs, retry: { retries: 6, minDelayMs: 20, maxDelayMs: 300 } });
    for (let seq = 0; this.running; seq++) {
      const ref: RecordRef = { k: `${name}:${seq}`, p: rng.int(0, this.o.partitions - 1) };
      this.record({ f: 'produce', process: name, type: 'invoke', value: [ref] });
      try {
        const r = await client.produce(this.o.topic, { payload: payloadOf(ref, 0), partition: ref.p });
        this.record({ f: 'produce', process: name, type: 'ok', value: [{ ...ref, p: r.partition, o: r.offset }] });
      } catch (err) {
        // After retries the outcome of earlier tries is unknown, whatever the last answer was.
        this.record({ f: 'produce', process: name, type: 'info', value: [ref], error: err instanceof YakClientError ? err.code : errorName(err) });
      }
      await sleep(rng.int(...this.o.thinkMs));
    }
  }

  /** Tails one partition from 0, asking a random broker each time (followers trail a little). */
  private async consumer(name: string, partition: number): Promise<void> {
    const rng = this.rng.stream(name);
    let position = 0;
    while (this.running) {
      const target = rng.pick(this.targets.urls);
      const broker = this.targets.idOf(target);
      const t0 = this.history.now();
      const path = `/consume?topic=${encodeURIComponent(this.o.topic)}&partition=${partition}&offset=${position}&max=200&wait_ms=250`;
      try {
        const res = await call(target, 'GET', path, undefined, undefined, this.o.requestTimeoutMs + 250);
        if (res.status !== 200) {
          this.record({ f: 'read', process: name, type: 'info', t0, p: partition, from: position, broker, error: `${res.status} ${res.body?.error ?? ''}`.trim() });
          await sleep(100);
          continue;
        }
        const body = res.body as { records: { offset: number; payload: unknown }[]; next_offset: number; high_watermark: number };
        const value = body.records.map((r): [number, string] => [r.offset, keyOfPayload(r.payload)]);
        this.record({ f: 'read', process: name, type: 'ok', t0, p: partition, from: position, broker, hwm: body.high_watermark, value });
        if (body.next_offset > position) position = body.next_offset;
      } catch (err) {
        this.record({ f: 'read', process: name, type: 'info', t0, p: partition, from: position, broker, error: errorName(err) });
        await sleep(100);
      }
    }
  }
}

function errorName(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timeout';
    const cause = (err as { cause?: { code?: string } }).cause;
    return cause?.code ?? err.message.slice(0, 80);
  }
  return String(err);
}
