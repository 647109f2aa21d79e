/**
 * What recording one produce's metrics costs, on the hot path: the broker's own registry
 * (broker-runtime/src/metrics) against prom-client, the usual choice. Per produce request the leader
 * does what Broker.produce() does: produce_requests_total{outcome} +1, records_in_total{topic} +n,
 * payload_in_bytes_total{topic} +bytes, and one commit_latency_seconds observation.
 *
 *   node --import tsx bench/metrics-recording.ts
 *
 * prom-client is no dependency of YAK: the prom-client rows run where it can be imported (for
 * example after `npm install --prefix /tmp/promdeps prom-client` and NODE_PATH-free resolution via
 * PROM_CLIENT=/tmp/promdeps/node_modules/prom-client/index.js), and are skipped otherwise.
 * Times are CPU time of this process (process.cpuUsage), the median of 7 rounds of 1,000,000.
 */
import { LATENCY_BUCKETS_SECONDS, MetricsRegistry } from '../broker-runtime/src/metrics/index.js';

const N = 1_000_000;
const ROUNDS = 7;
const topics = ['orders', 'payments', 'clicks'];
const latencies = Float64Array.from({ length: 4096 }, () => Math.random() * 0.02);

function measure(name: string, fn: (i: number) => void): void {
  for (let i = 0; i < 200_000; i++) fn(i);
  const ns: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const before = process.cpuUsage();
    for (let i = 0; i < N; i++) fn(i);
    const used = process.cpuUsage(before);
    ns.push(((used.user + used.system) * 1000) / N);
  }
  ns.sort((a, b) => a - b);
  console.log(`${name.padEnd(62)} ${ns[ROUNDS >> 1]!.toFixed(0).padStart(5)} ns per produce (min ${ns[0]!.toFixed(0)}, max ${ns[ROUNDS - 1]!.toFixed(0)})`);
}

function ours(): void {
  const r = new MetricsRegistry();
  const req = r.counter('produce_requests_total', 'x', ['outcome']);
  const rin = r.counter('records_in_total', 'x', ['topic']);
  const bin = r.counter('payload_in_bytes_total', 'x', ['topic']);
  const summary = r.summary('commit_latency_ms', 'x');
  const hist = r.histogram('commit_latency_seconds', 'x', LATENCY_BUCKETS_SECONDS);
  measure('yak registry, summary (before: last-1024 reservoir, ms)', (i) => {
    const topic = topics[i % 3]!;
    req.inc({ outcome: 'ok' });
    rin.inc({ topic }, 1);
    bin.inc({ topic }, 100);
    summary.observe(latencies[i & 4095]! * 1000);
  });
  measure('yak registry, histogram (now: 15 fixed buckets, seconds)', (i) => {
    const topic = topics[i % 3]!;
    req.inc({ outcome: 'ok' });
    rin.inc({ topic }, 1);
    bin.inc({ topic }, 100);
    hist.observe(latencies[i & 4095]!);
  });
  const perTopic = new Map<string, { rin: ReturnType<typeof rin.labels>; bin: ReturnType<typeof bin.labels> }>();
  const ok = req.labels({ outcome: 'ok' });
  measure('yak registry, histogram, children kept per topic (the broker)', (i) => {
    const topic = topics[i % 3]!;
    let c = perTopic.get(topic);
    if (!c) perTopic.set(topic, (c = { rin: rin.labels({ topic }), bin: bin.labels({ topic }) }));
    ok.inc();
    c.rin.inc(1);
    c.bin.inc(100);
    hist.observe(latencies[i & 4095]!);
  });
  measure('yak registry, histogram.observe(v) alone', (i) => hist.observe(latencies[i & 4095]!));
}

async function promClient(): Promise<void> {
  const specifier = process.env['PROM_CLIENT'] ?? 'prom-client';
  let client: any;
  try {
    client = (await import(specifier)).default;
  } catch {
    console.log(`prom-client rows skipped: cannot import ${specifier} (set PROM_CLIENT to its index.js)`);
    return;
  }
  const reg = new client.Registry();
  const req = new client.Counter({ name: 'yak_produce_requests_total', help: 'x', labelNames: ['outcome'], registers: [reg] });
  const rin = new client.Counter({ name: 'yak_records_in_total', help: 'x', labelNames: ['topic'], registers: [reg] });
  const bin = new client.Counter({ name: 'yak_payload_in_bytes_total', help: 'x', labelNames: ['topic'], registers: [reg] });
  const hist = new client.Histogram({ name: 'yak_commit_latency_seconds', help: 'x', buckets: [...LATENCY_BUCKETS_SECONDS], registers: [reg] });
  measure('prom-client, histogram, label objects', (i) => {
    const topic = topics[i % 3]!;
    req.inc({ outcome: 'ok' });
    rin.inc({ topic }, 1);
    bin.inc({ topic }, 100);
    hist.observe(latencies[i & 4095]!);
  });
  const ok = req.labels({ outcome: 'ok' });
  const children = new Map(topics.map((t) => [t, { rin: rin.labels({ topic: t }), bin: bin.labels({ topic: t }) }]));
  measure('prom-client, histogram, .labels() children kept per topic', (i) => {
    const c = children.get(topics[i % 3]!)!;
    ok.inc();
    c.rin.inc(1);
    c.bin.inc(100);
    hist.observe(latencies[i & 4095]!);
  });
  measure('prom-client, histogram.observe(v) alone', (i) => hist.observe(latencies[i & 4095]!));
  const t0 = process.cpuUsage();
  for (let i = 0; i < 1000; i++) await reg.metrics();
  const u = process.cpuUsage(t0);
  console.log(`prom-client: rendering these 4 families takes ${((u.user + u.system) / 1000).toFixed(1)} µs per scrape`);
}

console.log(`node ${process.version}, ${N.toLocaleString('en')} produces per round`);
ours();
await promClient();
