import { number } from './format.js';
import { renderSecurity } from './security-matrix.js';
import type { BenchReport, Row } from './types.js';

/** The report as the text table `npm run bench` prints (and the README shows). */
export function renderReport(report: BenchReport): string {
  const m = report.machine;
  const s = report.settings;
  const lines = [
    `YAK benchmark (${report.mode} run, ${report.startedAt}, ${(report.durationMs / 1000).toFixed(0)} s)`,
    `machine: ${m.cores} cores, ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.platform}; Node ${m.node}; Redis ${m.redisVersion}; load average at start ${m.loadAverage.join(' ')}`,
    `brokers: ${s.brokers} brokers, ${s.partitions} partitions, lease ${s.leaseSeconds} s / renew ${s.renewSeconds} s, min-insync ${s.minInsync} (acks from every in-sync replica), replica lag ${s.replicaLagSeconds} s, fsync ${s.fsync}${s.fsync === 'interval' ? ` every ${s.fsyncIntervalMs} ms` : ''}; ${s.auth === 'matrix' ? 'client auth and TLS: each setting below' : `client auth ${s.auth ? 'on (--auth-file, Bearer token on every request)' : 'off'}, TLS ${s.tls ? 'on (clients and replication)' : 'off'}`}; replication frames HMAC-signed (always)`,
    `workload: ${s.payloadBytes}-byte JSON payloads, ${s.rounds} round(s) of ${s.roundMs} ms per throughput figure; each figure is the median over rounds, each ratio the median of per-round YAK ÷ comparison`,
    report.rows.length > 0
      ? `redis streams: a separate redis-server with appendonly yes, appendfsync everysec; client: ${report.client}`
      : `client: ${report.client}`,
    '',
  ];
  if (report.security) lines.push(renderSecurity(report.security));
  if (report.rows.length === 0) return lines.join('\n');
  if (report.security) lines.push('');
  const header = ['figure', 'unit', 'YAK', 'compared with', 'value', 'ratio', 'target'];
  const body = report.rows.map(cells);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const right = new Set([2, 4, 5]);
  const fmt = (r: string[]) => r.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  lines.push(fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(fmt));
  const notes = report.rows.filter((r) => r.skipped || r.error);
  if (notes.length) lines.push('', ...notes.map((r) => `${r.figure}: ${r.skipped ? `skipped: ${r.skipped}` : `failed: ${r.error}`}`));
  return lines.join('\n');
}

function cells(r: Row): string[] {
  const target = r.target ? `${r.target.text} ${r.target.met === null ? '?' : r.target.met ? 'met' : 'MISSED'}` : '';
  if (r.skipped || r.error) return [r.figure, r.unit, r.skipped ? 'skipped' : 'failed', r.comparison?.label ?? '—', '', '', target];
  return [
    r.figure,
    r.unit,
    number(r.yak),
    r.comparison?.label ?? '—',
    r.comparison ? number(r.comparison.value) : '',
    r.ratio === null ? '' : `${r.ratio.toFixed(2)}×`,
    target,
  ];
}

