import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { parseMetrics, sumCounter } from '../../../src/main/supervisor/watch/observation.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { call, get, post } from '../../../testkit/http.js';

const MONITORING = fileURLToPath(new URL('../../../deploy/monitoring/', import.meta.url));
const PROMTOOL = process.env['PROMTOOL_BIN'] ?? 'promtool';

function promtool(args: string[], input?: string): { code: number | null; out: string } {
  const r = spawnSync(PROMTOOL, args, { input, encoding: 'utf8', cwd: MONITORING, timeout: 30_000 });
  if (r.error) throw r.error;
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const missing = spawnSync(PROMTOOL, ['--version'], { encoding: 'utf8' }).error
  ? `promtool is not installed (Debian/Ubuntu: apt-get install prometheus; or set PROMTOOL_BIN)`
  : false;

/** Metric names the alerts and the dashboard query (histogram series by their family's name). */
function namesUsedIn(text: string): Set<string> {
  const names = new Set<string>();
  for (const [name] of text.matchAll(/\b(?:yak|process|nodejs)_[a-z0-9_]+/g)) {
    if (name.includes(':')) continue;
    names.add(name.replace(/_(bucket|sum|count)$/, (m) => (/commit_latency_seconds|gc_duration_seconds/.test(name) ? '' : m)));
  }
  return names;
}

function dashboardQueries(): string[] {
  const d = JSON.parse(readFileSync(join(MONITORING, 'grafana-dashboard.json'), 'utf8')) as {
    panels: { targets?: { expr: string }[] }[];
    annotations: { list: { expr?: string }[] };
  };
  const exprs = d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  for (const a of d.annotations.list) if (a.expr) exprs.push(a.expr);
  return exprs;
}

describe('Prometheus exposition of real brokers, checked by promtool', { skip: missing }, () => {
  let cluster: TestCluster;
  let leader: string;
  let follower: string;

  before(async () => {
    cluster = await TestCluster.start({ brokers: 2, partitions: 2 });
    leader = (await cluster.waitForLeader()).broker.url;
    follower = cluster.brokers.find((b) => b.url !== leader)!.url;
    // Traffic enough for labelled series of every kind: topics, outcomes, the histogram, reads.
    for (let i = 0; i < 5; i++) assert.equal((await post(leader, '/produce', { topic: 'orders', key: `k${i}`, payload: { i } })).status, 200);
    assert.equal((await post(leader, '/produce/batch', { topic: 'odd.name-1_x', records: [{ payload: 'a' }, { payload: 'b' }] })).status, 200);
    assert.equal((await post(leader, '/produce', { topic: 'orders', payload: 1, partition: 9 })).status, 404);
    assert.equal((await post(follower, '/produce', { topic: 'orders', payload: 1 })).status, 421);
    assert.equal((await get(follower, '/consume?topic=orders&partition=0&offset=0')).status, 200);
    assert.equal((await get(leader, '/consume?topic=orders&partition=1&offset=0')).status, 200);
  });
  after(async () => cluster?.stop());

  test('promtool check metrics finds nothing to complain about on a leader and a follower', async () => {
    for (const url of [leader, follower]) {
      const res = await fetch(`${url}/metrics?format=prometheus`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const { code, out } = promtool(['check', 'metrics'], await res.text());
      assert.equal(code, 0, `promtool check metrics on ${url}:\n${out}`);
      assert.equal(out.trim(), '', `promtool check metrics on ${url} printed problems:\n${out}`);
    }
  });

  test('the exposition has base units, histograms and the process and Node.js families', async () => {
    const text = (await call(leader, 'GET', '/metrics?format=prometheus')).text;
    const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    assert.equal(types.get('yak_commit_latency_seconds'), 'histogram');
    assert.equal(types.get('nodejs_gc_duration_seconds'), 'histogram');
    assert.ok(![...types.values()].includes('summary'), 'no summaries: they cannot be aggregated across brokers');
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_open_fds', 'nodejs_eventloop_lag_p99_seconds', 'yak_data_dir_free_bytes']) {
      assert.ok(types.has(name), `${name} is missing`);
    }
    for (const [name, type] of types) {
      assert.ok(/^(yak|process|nodejs)_/.test(name), `${name}: yak_ prefix, or a standard runtime name`);
      assert.ok(!/_(ms|milliseconds|kb|mb)(_|$)/.test(name), `${name}: base units`);
      assert.equal(type === 'counter', name.endsWith('_total'), `${name}: _total exactly on counters`);
    }
    assert.match(text, /^yak_commit_latency_seconds_count 6$/m, 'one observation per committed produce request');
    assert.match(text, /^yak_records_in_total\{topic="odd\.name-1_x"\} 2$/m);
    assert.match(text, /^yak_produce_requests_total\{outcome="UNKNOWN_PARTITION"\} 1$/m);
    assert.match(text, /^yak_is_leader 1$/m);
  });

  test('every metric the alerts and the dashboard use is exposed by the brokers', async () => {
    const text = (await call(leader, 'GET', '/metrics?format=prometheus')).text + (await call(follower, 'GET', '/metrics?format=prometheus')).text;
    const exposed = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    const used = namesUsedIn(readFileSync(join(MONITORING, 'yak-alerts.yml'), 'utf8') + dashboardQueries().join('\n'));
    assert.ok(used.size > 10);
    assert.deepEqual([...used].filter((n) => !exposed.has(n)), []);
  });

  test('GET /metrics JSON keeps what the desktop app reads: records in and out as plain numbers', async () => {
    const leaderJson = parseMetrics((await get(leader, '/metrics')).body);
    const followerJson = parseMetrics((await get(follower, '/metrics')).body);
    assert.ok(leaderJson && followerJson);
    assert.equal(sumCounter(leaderJson, 'records_in'), 7);
    assert.equal(sumCounter(followerJson, 'records_out'), (await get(follower, '/consume?topic=orders&partition=0&offset=0')).body.records.length);
    assert.equal(leaderJson['role'], 'leader');
    const latency = leaderJson['commit_latency_seconds'] as { count: number; buckets: { le: string; count: number }[] };
    assert.equal(latency.count, 6);
    assert.equal(latency.buckets.at(-1)!.le, '+Inf');
  });
});

describe('alert rules, example configuration and dashboard queries, checked by promtool', { skip: missing }, () => {
  test('promtool check rules accepts yak-alerts.yml', () => {
    const { code, out } = promtool(['check', 'rules', 'yak-alerts.yml']);
    assert.equal(code, 0, out);
    assert.match(out, /SUCCESS/);
  });

  test('promtool test rules: each alert fires when it should and not before', () => {
    const { code, out } = promtool(['test', 'rules', 'yak-alerts.test.yml']);
    assert.equal(code, 0, out);
  });

  test('promtool check config accepts the example prometheus.yml and the rules it loads', () => {
    const { code, out } = promtool(['check', 'config', 'prometheus.yml']);
    assert.equal(code, 0, out);
  });

  test('every query of the Grafana dashboard is valid PromQL', () => {
    // promtool has no expression checker of its own: each query becomes a recording rule.
    const dir = mkdtempSync(join(tmpdir(), 'yak-dashboard-'));
    try {
      const exprs = dashboardQueries();
      const rules = exprs.map((e, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(e.replaceAll('$__rate_interval', '5m'))}\n`);
      writeFileSync(join(dir, 'dashboard.yml'), `groups:\n  - name: dashboard\n    rules:\n${rules.join('')}`);
      const { code, out } = promtool(['check', 'rules', join(dir, 'dashboard.yml')]);
      assert.equal(code, 0, out);
      assert.match(out, new RegExp(`SUCCESS: ${exprs.length} rules found`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
