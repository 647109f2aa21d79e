import { readFileSync } from 'node:fs';
import { get } from '../../../testkit/http.js';
import type { Reply } from './raw-http.js';

/**
 * What the fuzz test watches: every answer's status (and whether an error answer is the contract's
 * JSON), the logs' high-water marks and log ends, and the brokers' memory.
 */

export class Tally {
  readonly byStatus = new Map<string, number>();
  readonly problems: string[] = [];
  total = 0;

  /** Count one answer; a 5xx, a missing answer or an error that is not `{error, message}` JSON is a problem. */
  add(what: string, r: Reply, opts: { noBody?: boolean; mayDrop?: boolean } = {}): void {
    this.total++;
    const key = r.status === null ? 'no answer' : String(r.status);
    this.byStatus.set(key, (this.byStatus.get(key) ?? 0) + 1);
    if (r.status === null) {
      if (!opts.mayDrop) this.problem(`${what}: no answer (${r.error ?? '?'})`);
      return;
    }
    if (r.status >= 500) this.problem(`${what}: ${r.status} ${r.text.slice(0, 200)}`);
    if (r.status >= 400 && !opts.noBody && !isErrorJson(r.text)) this.problem(`${what}: ${r.status} answered without a JSON error body: ${r.text.slice(0, 120)}`);
  }

  private problem(line: string): void {
    if (this.problems.length < 50) this.problems.push(line);
  }

  summary(): string {
    const parts = [...this.byStatus].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}: ${n}`);
    return `${this.total} requests — ${parts.join(', ')}`;
  }
}

function isErrorJson(text: string): boolean {
  try {
    const v = JSON.parse(text) as { error?: unknown; message?: unknown };
    return typeof v.error === 'string' && typeof v.message === 'string';
  } catch {
    return false;
  }
}

/** `topic/partition` → `hwm/leo` as one broker reports them. */
export type LogState = Map<string, { hwm: number; leo: number }>;

export async function logState(url: string): Promise<LogState> {
  const r = await get(url, '/topics', 5000);
  const out: LogState = new Map();
  for (const t of (r.body as { topics: { name: string; partitions: { partition: number; high_watermark: number; log_end_offset: number }[] }[] }).topics) {
    for (const p of t.partitions) out.set(`${t.name}/${p.partition}`, { hwm: p.high_watermark, leo: p.log_end_offset });
  }
  return out;
}

/** Differences between `got` and `want` (both hwm and leo must match), as lines. */
export function diffStates(got: LogState, want: LogState): string[] {
  const out: string[] = [];
  for (const k of new Set([...got.keys(), ...want.keys()])) {
    const g = got.get(k);
    const w = want.get(k);
    if (!g || !w || g.hwm !== w.hwm || g.leo !== w.leo) out.push(`${k}: have ${g ? `${g.hwm}/${g.leo}` : 'none'}, expected ${w ? `${w.hwm}/${w.leo}` : 'none'}`);
  }
  return out;
}

/**
 * Expected state after `accepted` committed records ({topic, partition} per record) on top of
 * `before`; a topic first seen here was created by its first produce with `partitions` partitions.
 */
export function plus(before: LogState, accepted: { topic: string; partition: number }[], partitions: number): LogState {
  const out: LogState = new Map([...before].map(([k, v]) => [k, { ...v }]));
  for (const a of accepted) {
    if (!out.has(`${a.topic}/0`)) for (let p = 0; p < partitions; p++) out.set(`${a.topic}/${p}`, { hwm: 0, leo: 0 });
    const k = `${a.topic}/${a.partition}`;
    const v = out.get(k) ?? { hwm: 0, leo: 0 };
    out.set(k, { hwm: v.hwm + 1, leo: v.leo + 1 });
  }
  return out;
}

/** Resident and peak resident memory of a process in MB, from /proc (Linux). */
export function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: Math.round(kb('VmRSS') / 1024), peak: Math.round(kb('VmHWM') / 1024) };
}
