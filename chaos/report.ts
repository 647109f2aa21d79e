import { SAFETY_KINDS, type CheckResult } from './checker.js';

/** The verdict as a terminal would show it. */
export function formatReport(r: CheckResult, run: { seed: number; seconds: number; historyPath: string; replay: string }): string {
  const lines: string[] = [];
  const faults = Object.entries(r.faults).map(([f, n]) => `${f}×${n}`).join(', ') || 'none';
  const totalFaults = Object.values(r.faults).reduce((a, b) => a + b, 0);
  lines.push(`YAK chaos run: seed ${run.seed}, ${run.seconds.toFixed(1)} s, ${totalFaults} fault(s): ${faults}`);
  lines.push(`history: ${run.historyPath}`);
  const skipped = Object.entries(r.skipped ?? {});
  if (skipped.length) lines.push(`skipped: ${skipped.map(([f]) => f).join(', ')} — ${[...new Set(skipped.map(([, why]) => why))].join('; ')}`);
  lines.push(
    `produce: ${r.produce.ok} ok, ${r.produce.fail} fail, ${r.produce.info} info (unknown outcome), ${r.produce.pending} unfinished; ` +
      `records: ${r.records.acked} acknowledged, ${r.records.failed} refused, ${r.records.indeterminate} unknown, ${r.records.stored} stored`,
  );
  lines.push(`reads: ${r.reads.ok} consumer reads (${r.reads.records} records), ${r.reads.info} failed`);
  lines.push(`safety: ${SAFETY_KINDS.map((k) => `${k} ${r.violations[k]}`).join(' | ')}`);
  if (r.group.memberFaults.length) {
    const moved = r.group.memberFaults.filter((m) => m.movedAfterMs !== null);
    const slowest = Math.max(0, ...moved.map((m) => m.movedAfterMs!));
    lines.push(`member faults: ${moved.length} of ${r.group.memberFaults.length} saw the victim's partitions move to another member${moved.length ? ` (slowest after ${slowest} ms)` : ''}${moved.length < r.group.memberFaults.length ? `; not moved: ${r.group.memberFaults.filter((m) => m.movedAfterMs === null).map((m) => `${m.fault} ${m.member} at ${m.t} ms`).join(', ')}` : ''}`);
  }
  const c = r.group.commits;
  const refused = Object.entries(c.refused);
  if (c.accepted || refused.length || c.unknown) lines.push(`group commits: ${c.accepted} accepted, ${refused.reduce((n, [, k]) => n + k, 0)} refused${refused.length ? ` (${refused.map(([code, n]) => `${code} ${n}`).join(', ')})` : ''}, ${c.unknown} unknown`);
  if (r.group.drained !== null) {
    lines.push(`consumer group: ${r.group.members} member id(s) over ${r.group.generations} generation(s), ${r.group.processed} records processed (${r.group.reprocessed} again after a rebalance or failover: at-least-once), ${r.group.offsetObservations} looks at its committed offsets, ${r.group.drained ? 'caught up' : 'did NOT catch up'}`);
  }
  lines.push(`also: duplicates from client retries ${r.duplicates.fromRetries}, high-water-mark regressions seen by consumers ${r.hwmRegressions}`);
  for (const p of r.replicas) {
    const same = new Set(p.brokers.map((b) => `${b.records}/${b.sha}`)).size === 1;
    lines.push(`replicas p${p.partition}: ${same ? `${p.brokers[0]?.records ?? 0} records, sha256 ${p.brokers[0]?.sha ?? '-'} on ${p.brokers.map((b) => b.id).join(', ')}` : p.brokers.map((b) => `${b.id} ${b.records} records sha256 ${b.sha}`).join('; ')}`);
  }
  lines.push(`unavailability (longest stretch without an acknowledged write), ms — baseline before faults: ${r.baselineGapMs}`);
  lines.push(`  ${'fault'.padEnd(22)} ${'n'.padStart(3)} ${'p50'.padStart(7)} ${'p99'.padStart(7)} ${'max'.padStart(7)}`);
  for (const [f, s] of Object.entries(r.unavailability)) lines.push(`  ${f.padEnd(22)} ${String(s.n).padStart(3)} ${String(s.p50).padStart(7)} ${String(s.p99).padStart(7)} ${String(s.max).padStart(7)}`);
  for (const l of r.liveness) lines.push(`liveness: ${l}`);
  for (const e of r.examples) lines.push(`VIOLATION ${e.kind}: ${e.detail}`);
  const ok = r.safe && r.liveness.length === 0;
  lines.push(ok ? `RESULT: PASS — no safety violations (seed ${run.seed})` : `RESULT: FAIL — ${r.safe ? 'liveness problems' : 'safety violations'}; seed ${run.seed}; history ${run.historyPath}; replay: ${run.replay}`);
  return lines.join('\n');
}
