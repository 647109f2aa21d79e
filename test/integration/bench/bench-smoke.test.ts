// Runs beside other files (it ran alone while its watchdog was 75 s, which a file beside it pushed
// it past): its figures are not asserted, only that each row has one, and the watchdog below leaves
// 130 s for a run that takes 45-55 s alone on 2 cores.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
// A type import still makes `npm run typecheck` check the whole benchmark (bench/ is outside test/).
import type { runBench } from '../../../bench/main.js';
import type { BenchReport } from '../../../bench/types.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

test('npm run bench -- --smoke gives every row a figure (or a reason it was skipped) and writes the JSON report', { timeout: 150_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'yak-bench-smoke-'));
  try {
    const out = join(dir, 'results.json');
    // The transport workload starts a second 3-broker cluster: allow for it on a loaded machine.
    const { code, stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--out', out], 130_000);
    assert.equal(code, 0, `bench exited ${code}\n${stderr.slice(-3000)}`);
    const report = JSON.parse(await readFile(out, 'utf8')) as BenchReport;
    t.diagnostic(`smoke run took ${report.durationMs} ms`);
    const ids = report.rows.map((r) => r.id);
    for (const id of ['single.records_per_s', 'single.records_per_s_vs_jetstream', 'single.records_per_s_vs_http_ceiling', 'transport.single.records_per_s', 'transport.single.cpu_us_per_record', 'transport.batch.records_per_s', 'batch.records_per_s', 'disk.mb_per_s', 'memory.leader_peak_rss_mb', 'consume.records_per_s', 'consume.records_per_s_vs_jetstream', 'kafka.produce.records_per_s', 'kafka.produce.cpu_us_per_record', 'kafka.fetch.records_per_s', 'kafka.fetch.cpu_us_per_record', 'kafka.fetch_cold.records_per_s', 'kafka.kcat_produce.records_per_s', 'kafka.kcat_consume.records_per_s', 'kafka.kafkajs_batch.records_per_s', 'kafka.kafkajs_batch.cpu_us_per_record', 'kafka.kafkajs_single.records_per_s', 'kafka.kafkajs_single.cpu_us_per_record', 'kafka.kafkajs_ceiling.records_per_s', 'kafka.kafkajs_ceiling.client_cpu_us_per_record', 'kafka.kafkajs_ceiling_single.records_per_s', 'e2e.p50_ms', 'compression.gzip.bytes_per_record', 'compression.lz4.cpu_us_per_record', 'compression.codec.lz4.batch_100', 'failover.sigkill_ms', 'failover.sigterm_ms', 'partitions.create_s', 'partitions.produce_records_per_s', 'partitions.consume_records_per_s', 'partitions.open_files_leader', 'partitions.restart_clean_s', 'partitions.restart_sigkill_s', 'partitions.read_back_after_restarts']) {
      assert.ok(ids.includes(id), `row ${id} is in the report (have ${ids.join(', ')})`);
    }
    for (const row of report.rows) {
      if (row.skipped) {
        assert.ok(row.skipped.length > 0, `${row.id}: skipped with a reason`);
        continue;
      }
      assert.equal(row.error, undefined, `${row.id} failed: ${row.error}`);
      assert.ok(typeof row.yak === 'number' && Number.isFinite(row.yak), `${row.id}: YAK figure ${row.yak}`);
      if (row.comparison) assert.ok(typeof row.comparison.value === 'number' && Number.isFinite(row.comparison.value), `${row.id}: comparison figure ${row.comparison.value}`);
    }
    assert.match(stdout, /ratio/, 'the table is printed');
    assert.equal(report.settings.auth, false, 'the report says auth was off');
    assert.equal(report.settings.tls, false, 'the report says TLS was off');
    assert.ok(report.machine.cores > 0 && report.machine.node.startsWith('v'), 'machine info is recorded');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('npm run bench -- --smoke --auth --tls runs single, batch and end-to-end against brokers with an auth file and HTTPS', { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'yak-bench-smoke-'));
  try {
    const out = join(dir, 'results.json');
    const { code, stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--auth', '--tls', '--only', 'single,batch,e2e', '--out', out], 50_000);
    assert.equal(code, 0, `bench exited ${code}\n${stderr.slice(-3000)}`);
    const report = JSON.parse(await readFile(out, 'utf8')) as BenchReport;
    t.diagnostic(`smoke run with --auth --tls took ${report.durationMs} ms`);
    assert.equal(report.settings.auth, true, 'the report says auth was on');
    assert.equal(report.settings.tls, true, 'the report says TLS was on');
    for (const id of ['single.records_per_s', 'batch.records_per_s', 'e2e.p50_ms']) {
      const row = report.rows.find((r) => r.id === id);
      assert.ok(row, `row ${id} is in the report`);
      assert.equal(row.error, undefined, `${id} failed: ${row.error}`);
      assert.ok(typeof row.yak === 'number' && row.yak > 0, `${id}: YAK figure ${row.yak}`);
    }
    assert.match(stdout, /client auth on .* TLS on/, 'the table says auth and TLS were on');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

function run(cmd: string, args: string[], watchdogMs = 75_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    // A hung run is stopped the way a user would (its SIGTERM handler takes the cluster down).
    const watchdog = setTimeout(() => p.kill('SIGTERM'), watchdogMs);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(watchdog);
      resolve({ code, stdout, stderr });
    });
  });
}
