import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsRegistry, Reservoir } from '../../broker-runtime/src/metrics/index.js';

test('a counter starts at 0, counts by 1 or by n, per label set', () => {
  const r = new MetricsRegistry();
  const plain = r.counter('requests_total', 'Requests');
  const byTopic = r.counter('records_in_total', 'Records appended', ['topic']);
  assert.equal(plain.value(), 0);
  plain.inc();
  plain.inc(4);
  byTopic.inc({ topic: 'a' });
  byTopic.inc({ topic: 'a' }, 2);
  byTopic.inc({ topic: 'b' }, 10);
  assert.equal(plain.value(), 5);
  assert.equal(byTopic.value({ topic: 'a' }), 3);
  assert.equal(byTopic.value({ topic: 'b' }), 10);
  assert.equal(byTopic.value({ topic: 'never' }), 0);
});

test('a counter refuses to go down', () => {
  const c = new MetricsRegistry().counter('x_total', 'x');
  assert.throws(() => c.inc(-1), RangeError);
  assert.throws(() => c.inc(NaN), RangeError);
});

test('a labelled metric needs every declared label', () => {
  const c = new MetricsRegistry().counter('x_total', 'x', ['topic', 'partition']);
  // @ts-expect-error the type demands every label too
  assert.throws(() => c.inc({ topic: 't' }), /needs label partition/);
});

test('a bound child updates its series without a lookup', () => {
  const r = new MetricsRegistry();
  const c = r.counter('records_in_total', 'Records', ['topic', 'partition']);
  const child = c.labels({ topic: 't', partition: 0 });
  child.inc();
  child.inc(2);
  assert.equal(child.value, 3);
  assert.equal(c.value({ topic: 't', partition: '0' }), 3, 'numbers and strings name the same series');
  const g = r.gauge('lag', 'Lag', ['broker']).labels({ broker: 'b1' });
  g.set(10);
  g.dec(3);
  g.inc();
  assert.equal(g.value, 8);
});

test('a gauge goes up, down and is set', () => {
  const r = new MetricsRegistry();
  const g = r.gauge('in_flight', 'In flight');
  g.inc();
  g.inc(5);
  g.dec(2);
  assert.equal(g.value(), 4);
  g.set(-1.5);
  assert.equal(g.value(), -1.5);
  const hwm = r.gauge('high_watermark', 'HWM', ['topic', 'partition']);
  hwm.set({ topic: 't', partition: 0 }, 5);
  hwm.inc({ topic: 't', partition: 0 });
  hwm.dec({ topic: 't', partition: 0 }, 3);
  assert.equal(hwm.value({ topic: 't', partition: 0 }), 3);
  hwm.remove({ topic: 't', partition: 0 });
  assert.deepEqual(Object.keys(r.toJSON()), ['in_flight']);
});

test('a summary reports count, sum, p50, p99 and max', () => {
  const s = new MetricsRegistry().summary('latency_ms', 'Latency');
  for (let i = 100; i >= 1; i--) s.observe(i);
  assert.deepEqual(s.snapshot(), { count: 100, sum: 5050, p50: 50, p99: 99, max: 100 });
});

test('a summary with nothing observed reports nulls', () => {
  const s = new MetricsRegistry().summary('latency_ms', 'Latency');
  assert.deepEqual(s.snapshot(), { count: 0, sum: 0, p50: null, p99: null, max: null });
});

test('the reservoir keeps only the last N observations; count and sum stay all-time', () => {
  const res = new Reservoir(10);
  for (let i = 1; i <= 20; i++) res.observe(i);
  assert.deepEqual(res.snapshot(), { count: 20, sum: 210, p50: 15, p99: 20, max: 20 });
  const s = new MetricsRegistry().summary('size_bytes', 'Sizes', [], 4);
  for (const v of [1000, 1, 2, 3, 4]) s.observe(v);
  assert.equal(s.snapshot().max, 4, 'the old 1000 has left the window');
});

test('a summary ignores NaN and infinite observations instead of throwing', () => {
  const res = new Reservoir(8);
  res.observe(NaN);
  res.observe(Infinity);
  res.observe(2);
  assert.deepEqual(res.snapshot(), { count: 1, sum: 2, p50: 2, p99: 2, max: 2 });
});

test('toJSON is flat, sorted and keyed by name{labels}', () => {
  const r = new MetricsRegistry();
  r.counter('records_in_total', 'Records').inc(12);
  const hwm = r.gauge('high_watermark', 'HWM', ['topic', 'partition']);
  hwm.set({ topic: 't', partition: 10 }, 7);
  hwm.set({ topic: 't', partition: 2 }, 5);
  r.summary('produce_latency_ms', 'Latency').observe(3);
  const json = r.toJSON();
  assert.deepEqual(Object.keys(json), [
    'high_watermark{topic="t",partition="2"}',
    'high_watermark{topic="t",partition="10"}',
    'produce_latency_ms',
    'records_in_total',
  ]);
  assert.equal(json['records_in_total'], 12);
  assert.equal(json['high_watermark{topic="t",partition="10"}'], 7);
  assert.deepEqual(json['produce_latency_ms'], { count: 1, sum: 3, p50: 3, p99: 3, max: 3 });
  assert.deepEqual(JSON.parse(JSON.stringify(r)), json, 'JSON.stringify(registry) uses toJSON');
});

test('toPrometheus renders the text exposition format with the yak_ prefix', () => {
  const r = new MetricsRegistry();
  r.counter('records_in_total', 'Records appended.', ['topic']).inc({ topic: 't' }, 12);
  r.gauge('up', 'Is the broker up.').set(1);
  const s = r.summary('produce_latency_ms', 'Produce latency.');
  for (let i = 1; i <= 100; i++) s.observe(i);
  assert.equal(
    r.toPrometheus(),
    [
      '# HELP yak_produce_latency_ms Produce latency.',
      '# TYPE yak_produce_latency_ms summary',
      'yak_produce_latency_ms{quantile="0.5"} 50',
      'yak_produce_latency_ms{quantile="0.99"} 99',
      'yak_produce_latency_ms_sum 5050',
      'yak_produce_latency_ms_count 100',
      '# HELP yak_produce_latency_ms_max Produce latency. (largest of the last 1024 observations)',
      '# TYPE yak_produce_latency_ms_max gauge',
      'yak_produce_latency_ms_max 100',
      '# HELP yak_records_in_total Records appended.',
      '# TYPE yak_records_in_total counter',
      'yak_records_in_total{topic="t"} 12',
      '# HELP yak_up Is the broker up.',
      '# TYPE yak_up gauge',
      'yak_up 1',
      '',
    ].join('\n'),
  );
});

test('labelled summaries put quantile after their own labels; an empty window is NaN', () => {
  const r = new MetricsRegistry();
  const s = r.summary('fetch_ms', 'Fetch', ['topic']);
  s.labels({ topic: 'a' });
  const text = r.toPrometheus();
  assert.match(text, /^yak_fetch_ms\{topic="a",quantile="0\.5"\} NaN$/m);
  assert.match(text, /^yak_fetch_ms_sum\{topic="a"\} 0$/m);
  assert.match(text, /^yak_fetch_ms_count\{topic="a"\} 0$/m);
  assert.match(text, /^yak_fetch_ms_max\{topic="a"\} NaN$/m);
});

test('label values escape backslash, quote and newline; HELP escapes backslash and newline', () => {
  const r = new MetricsRegistry();
  r.counter('odd_total', 'Line one\nsays "hi" \\ bye', ['topic']).inc({ topic: 'a"b\\c\nd' });
  const text = r.toPrometheus();
  assert.ok(text.includes('# HELP yak_odd_total Line one\\nsays "hi" \\\\ bye\n'), text);
  assert.ok(text.includes('yak_odd_total{topic="a\\"b\\\\c\\nd"} 1\n'), text);
  assert.ok(Object.keys(r.toJSON()).includes('odd_total{topic="a\\"b\\\\c\\nd"}'));
});

test('every exposition line is a comment or a well-formed sample', () => {
  const r = new MetricsRegistry();
  r.counter('a_total', 'a', ['x', 'y']).inc({ x: 'q"\\\n', y: 1 });
  r.gauge('b', 'b').set(-Infinity);
  r.gauge('c', 'c').set(1e21);
  r.summary('d', 'd', ['z']).observe({ z: 'w' }, 0.25);
  const sample = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*",?)*\})? (NaN|[+-]Inf|-?\d+(\.\d+)?(e[+-]?\d+)?)$/;
  const text = r.toPrometheus();
  assert.ok(text.endsWith('\n'));
  for (const line of text.slice(0, -1).split('\n')) {
    assert.ok(/^# (HELP|TYPE) /.test(line) || sample.test(line), `bad line: ${line}`);
  }
  assert.match(text, /^yak_b -Inf$/m);
});

test('registering the same metric twice returns it; a clash throws', () => {
  const r = new MetricsRegistry();
  const a = r.counter('x_total', 'x', ['topic']);
  assert.equal(r.counter('x_total', 'x', ['topic']), a);
  assert.throws(() => r.gauge('x_total', 'x', ['topic']), /already registered/);
  assert.throws(() => r.counter('x_total', 'x', ['other']), /already registered/);
  r.summary('lat', 'lat');
  assert.throws(() => r.gauge('lat_count', 'c'), /clash/);
  r.gauge('size_max', 'm');
  assert.throws(() => r.summary('size', 's'), /clash/);
});

test('bad metric and label names are refused', () => {
  const r = new MetricsRegistry();
  assert.throws(() => r.counter('bad-name', 'x'), /invalid metric name/);
  assert.throws(() => r.counter('ok_total', 'x', ['bad-label']), /label name/);
  assert.throws(() => r.counter('ok2_total', 'x', ['__reserved']), /label name/);
  assert.throws(() => r.counter('ok3_total', 'x', ['a', 'a']), /label name/);
  assert.throws(() => r.summary('s', 'x', ['quantile']), /label name/);
});

test('collectors run before every render', () => {
  const r = new MetricsRegistry();
  const uptime = r.gauge('uptime_seconds', 'Uptime');
  let calls = 0;
  r.onCollect(() => uptime.set(++calls));
  assert.equal(r.toJSON()['uptime_seconds'], 1);
  assert.match(r.toPrometheus(), /^yak_uptime_seconds 2$/m);
});

test('an empty registry renders as {} and as empty text', () => {
  const r = new MetricsRegistry();
  assert.deepEqual(r.toJSON(), {});
  assert.equal(r.toPrometheus(), '');
});

test('a histogram counts each observation in the first bucket whose bound is at or above it', () => {
  const h = new MetricsRegistry().histogram('commit_latency_seconds', 'Latency', [0.001, 0.01, 0.1]);
  for (const v of [0.0005, 0.001, 0.002, 0.05, 0.1, 3]) h.observe(v);
  h.observe(NaN);
  const s = h.snapshot();
  assert.equal(s.count, 6);
  assert.ok(Math.abs(s.sum - 3.1535) < 1e-12);
  assert.deepEqual(s.buckets, [[0.001, 2], [0.01, 3], [0.1, 5], [Infinity, 6]]);
});

test('histogram p50/p99 interpolate inside the bucket as histogram_quantile does; +Inf gives the top bound', () => {
  const h = new MetricsRegistry().histogram('x_seconds', 'x', [1, 2, 4]);
  assert.equal(h.snapshot().p50, null, 'nothing observed');
  for (let i = 0; i < 100; i++) h.observe(i < 50 ? 0.5 : 1.5);
  // rank 50 is the last of bucket (0,1]; rank 99 is 49/50 of the way through (1,2].
  assert.equal(h.snapshot().p50, 1);
  assert.ok(Math.abs(h.snapshot().p99! - 1.98) < 1e-9);
  const top = new MetricsRegistry().histogram('y_seconds', 'y', [1, 2]);
  top.observe(100);
  assert.equal(top.snapshot().p99, 2);
});

test('a histogram renders cumulative _bucket lines with le last, then _sum and _count', () => {
  const r = new MetricsRegistry();
  const h = r.histogram('gc_duration_seconds', 'GC pauses.', [0.01, 0.1], ['kind']);
  h.observe({ kind: 'minor' }, 0.005);
  h.observe({ kind: 'minor' }, 0.05);
  h.labels({ kind: 'major' }).observe(1);
  assert.equal(
    r.toPrometheus(),
    [
      '# HELP yak_gc_duration_seconds GC pauses.',
      '# TYPE yak_gc_duration_seconds histogram',
      'yak_gc_duration_seconds_bucket{kind="major",le="0.01"} 0',
      'yak_gc_duration_seconds_bucket{kind="major",le="0.1"} 0',
      'yak_gc_duration_seconds_bucket{kind="major",le="+Inf"} 1',
      'yak_gc_duration_seconds_sum{kind="major"} 1',
      'yak_gc_duration_seconds_count{kind="major"} 1',
      'yak_gc_duration_seconds_bucket{kind="minor",le="0.01"} 1',
      'yak_gc_duration_seconds_bucket{kind="minor",le="0.1"} 2',
      'yak_gc_duration_seconds_bucket{kind="minor",le="+Inf"} 2',
      'yak_gc_duration_seconds_sum{kind="minor"} 0.055',
      'yak_gc_duration_seconds_count{kind="minor"} 2',
      '',
    ].join('\n'),
  );
  assert.deepEqual(r.toJSON()['gc_duration_seconds{kind="major"}'], {
    count: 1,
    sum: 1,
    p50: 0.1,
    p99: 0.1,
    buckets: [{ le: '0.01', count: 0 }, { le: '0.1', count: 0 }, { le: '+Inf', count: 1 }],
  });
});

test('a histogram refuses bad bounds, the le label, and names that clash with its series', () => {
  const r = new MetricsRegistry();
  assert.throws(() => r.histogram('a_seconds', 'a', []), /bounds/);
  assert.throws(() => r.histogram('b_seconds', 'b', [1, 1]), /bounds/);
  assert.throws(() => r.histogram('c_seconds', 'c', [1, Infinity]), /bounds/);
  assert.throws(() => r.histogram('d_seconds', 'd', [1], ['le']), /label name/);
  r.histogram('e_seconds', 'e', [1]);
  assert.throws(() => r.counter('e_seconds_bucket', 'x'), /clash/);
});

test('a registry with prefix "" writes standard names (process_*) as they are', () => {
  const r = new MetricsRegistry({ prefix: '' });
  r.gauge('process_resident_memory_bytes', 'RSS').set(5);
  assert.match(r.toPrometheus(), /^process_resident_memory_bytes 5$/m);
});
