import { createHash } from 'node:crypto';
import type { FinalReadOp, GroupAssignOp, GroupCommitOp, GroupOffsetsOp, GroupProcessOp, NemesisOp, Op, ProduceOp, ReadOp } from './history.js';
import { spread, type Spread } from './stats.js';

/**
 * The checker: a pure function from a history to a verdict. What it holds the broker to
 * (DESIGN.md, "The guarantees"):
 *
 *  - lost                 an acknowledged record is not at its acknowledged offset on some replica
 *  - failed-visible       a write refused with a 4xx (which "changes nothing") shows up anyway
 *  - conflict             one partition offset was seen holding two different records
 *  - unexpected-duplicate a record sent exactly once is stored twice (client retries are counted apart)
 *  - phantom              a stored record nobody wrote
 *  - non-monotonic-read   a consumer got records not starting at the offset it asked for, with gaps, or past the high-water mark
 *  - not-contiguous       a replica's offsets do not run 0, 1, 2, ...
 *  - replica-divergence   two replicas' committed prefixes differ (compared by hash)
 *  - crash                a broker exited without being told to
 *  - group-unprocessed    the consumer group caught up, yet never processed an acknowledged record
 *  - group-offset-backwards  a committed offset of the group went down (no reset was asked for)
 *  - group-double-assign  two members of one generation were given the same partition
 *  - group-stale-commit   a member's commit was accepted though it was sent after a later generation had
 *                         been handed out (a zombie — a paused member resumed — must be refused)
 *
 * Plus what is not a safety matter but is measured: duplicates from retries, high-water-mark
 * regressions seen by consumers (a restarted follower's checkpoint trails), unavailability per
 * fault, and liveness (the cluster not recovering, replicas not converging).
 */
export const SAFETY_KINDS = ['lost', 'failed-visible', 'conflict', 'unexpected-duplicate', 'phantom', 'non-monotonic-read', 'not-contiguous', 'replica-divergence', 'crash', 'group-unprocessed', 'group-offset-backwards', 'group-double-assign', 'group-stale-commit'] as const;
export type ViolationKind = (typeof SAFETY_KINDS)[number];

export interface Violation {
  kind: ViolationKind;
  detail: string;
}

export interface ReplicaSummary {
  partition: number;
  brokers: { id: string; hwm: number; records: number; sha: string }[];
}

export interface CheckResult {
  produce: { ok: number; fail: number; info: number; pending: number };
  records: { acked: number; failed: number; indeterminate: number; stored: number };
  reads: { ok: number; info: number; records: number };
  violations: Record<ViolationKind, number>;
  examples: Violation[];
  duplicates: { fromRetries: number; unexpected: number };
  hwmRegressions: number;
  replicas: ReplicaSummary[];
  /** Longest stretch without an acknowledged write, per fault kind, in ms. */
  unavailability: Record<string, Spread>;
  /** The same before the first fault: what "normal" looks like. */
  baselineGapMs: number;
  faults: Record<string, number>;
  /** Faults asked for but not injected, with the reason (disk-full without a tmpfs). */
  skipped: Record<string, string>;
  liveness: string[];
  /** The consumer group's run (all zero and drained null when the run had no group consumers). */
  group: { members: number; generations: number; processed: number; reprocessed: number; offsetObservations: number; drained: boolean | null; memberFaults: MemberFaultOutcome[]; commits: CommitCounts };
  safe: boolean;
}

const MAX_EXAMPLES_PER_KIND = 5;

interface KeyState {
  state: 'pending' | 'ok' | 'fail' | 'info';
  p: number;
  o?: number;
  error?: string;
}

export function check(ops: readonly Op[]): CheckResult {
  const violations = Object.fromEntries(SAFETY_KINDS.map((k) => [k, 0])) as Record<ViolationKind, number>;
  const examples: Violation[] = [];
  const flag = (kind: ViolationKind, detail: string) => {
    violations[kind]++;
    if (examples.filter((e) => e.kind === kind).length < MAX_EXAMPLES_PER_KIND) examples.push({ kind, detail });
  };
  const liveness: string[] = [];

  // 1. What each record's writer was told.
  const keys = new Map<string, KeyState>();
  const produce = { ok: 0, fail: 0, info: 0, pending: 0 };
  const okTimes: number[] = [];
  const produceOps = ops.filter((o): o is ProduceOp => o.f === 'produce');
  for (const op of produceOps) {
    if (op.type === 'invoke') {
      produce.pending++;
      for (const r of op.value) keys.set(r.k, { state: 'pending', p: r.p });
      continue;
    }
    produce.pending--;
    produce[op.type]++;
    if (op.type === 'ok') okTimes.push(op.t);
    for (const r of op.value) keys.set(r.k, { state: op.type, p: r.p, ...(r.o !== undefined && { o: r.o }), ...(op.error && { error: op.error }) });
  }
  const records = { acked: 0, failed: 0, indeterminate: 0, stored: 0 };
  for (const s of keys.values()) {
    if (s.state === 'ok') records.acked++;
    else if (s.state === 'fail') records.failed++;
    else records.indeterminate++;
  }

  // 2. What was seen where: consumer reads during the run, final reads of every replica after it.
  const seen = new Map<string, Map<string, string>>(); // "p@o" -> key -> first witness
  const witness = (p: number, o: number, key: string, by: string) => {
    const at = `${p}@${o}`;
    let m = seen.get(at);
    if (!m) seen.set(at, (m = new Map()));
    if (!m.has(key)) m.set(key, by);
  };
  const reads = { ok: 0, info: 0, records: 0 };
  let hwmRegressions = 0;
  const lastHwm = new Map<string, number>();
  for (const op of ops.filter((o): o is ReadOp => o.f === 'read')) {
    if (op.type !== 'ok') {
      reads.info++;
      continue;
    }
    reads.ok++;
    const value = op.value ?? [];
    reads.records += value.length;
    value.forEach(([o, k], i) => {
      witness(op.p, o, k, `${op.process} via ${op.broker} at ${op.t} ms`);
      if (o !== op.from + i) flag('non-monotonic-read', `${op.process} asked ${op.broker} for p${op.p} from ${op.from} and got offset ${o} in place ${i}`);
      if (op.hwm !== undefined && o >= op.hwm) flag('non-monotonic-read', `${op.process} got p${op.p}@${o} from ${op.broker}, at or past its high-water mark ${op.hwm}`);
    });
    const id = `${op.process}/${op.broker}/${op.p}`;
    if (op.hwm !== undefined) {
      if (op.hwm < (lastHwm.get(id) ?? 0)) hwmRegressions++;
      lastHwm.set(id, op.hwm);
    }
  }
  const finals = new Map<string, Map<number, FinalReadOp>>();
  for (const op of ops.filter((o): o is FinalReadOp => o.f === 'final-read')) {
    let m = finals.get(op.broker);
    if (!m) finals.set(op.broker, (m = new Map()));
    m.set(op.p, op);
    op.value.forEach((k, o) => {
      if (k.startsWith('@')) flag('not-contiguous', `${op.broker} p${op.p}: position ${o} holds ${k}`);
      else witness(op.p, o, k, `final read of ${op.broker}`);
    });
  }
  if (finals.size === 0) liveness.push('no final reads: the run ended before the cluster could be read');

  for (const [at, m] of seen) {
    if (m.size > 1) flag('conflict', `p${at.replace('@', ' offset ')} held ${[...m].map(([k, by]) => `${k} (${by})`).join(' and ')}`);
  }
  const stored = new Set<string>();
  for (const m of seen.values()) for (const k of m.keys()) stored.add(k);
  records.stored = stored.size;
  for (const k of stored) {
    const s = keys.get(k);
    if (!s) flag('phantom', `${k} was read but never written`);
    else if (s.state === 'fail') flag('failed-visible', `${k} was refused (${s.error ?? 'fail'}) yet is stored`);
  }

  // 3. Every acknowledged record at its offset on every replica.
  for (const [k, s] of keys) {
    if (s.state !== 'ok' || s.o === undefined) continue;
    const missing: string[] = [];
    for (const [broker, parts] of finals) {
      const got = parts.get(s.p)?.value[s.o];
      if (got !== k) missing.push(`${broker} has ${got ?? 'nothing'}`);
    }
    if (missing.length) flag('lost', `${k} acknowledged at p${s.p}@${s.o}; ${missing.join(', ')}`);
  }

  // 4. Duplicates, on each replica (they are identical when the run converged).
  const duplicates = { fromRetries: 0, unexpected: 0 };
  const first = [...finals.values()][0];
  if (first) {
    const count = new Map<string, number>();
    for (const op of first.values()) for (const k of op.value) count.set(k, (count.get(k) ?? 0) + 1);
    for (const [k, n] of count) {
      if (n < 2) continue;
      if (k.startsWith('y')) duplicates.fromRetries += n - 1;
      else {
        duplicates.unexpected += n - 1;
        flag('unexpected-duplicate', `${k} is stored ${n} times although it was sent once`);
      }
    }
  }

  // 5. Replicas' committed prefixes, by hash.
  const replicas: ReplicaSummary[] = [];
  const partitions = new Set<number>();
  for (const parts of finals.values()) for (const p of parts.keys()) partitions.add(p);
  for (const p of [...partitions].sort((a, b) => a - b)) {
    const per = [...finals].map(([id, parts]) => ({ id, op: parts.get(p) }));
    const shortest = Math.min(...per.map((x) => x.op?.value.length ?? 0));
    const prefixes = new Set(per.map((x) => sha((x.op?.value ?? []).slice(0, shortest))));
    if (prefixes.size > 1) flag('replica-divergence', `p${p}: the first ${shortest} committed records differ between ${per.map((x) => x.id).join(', ')}`);
    replicas.push({ partition: p, brokers: per.map((x) => ({ id: x.id, hwm: x.op?.hwm ?? 0, records: x.op?.value.length ?? 0, sha: sha(x.op?.value ?? []).slice(0, 12) })) });
    if (new Set(per.map((x) => x.op?.value.length ?? -1)).size > 1) liveness.push(`p${p}: replicas hold ${per.map((x) => `${x.id}=${x.op?.value.length ?? 'none'}`).join(', ')} committed records`);
  }

  // 6. Nemesis: crashes, recoveries, and how long writes stalled per fault.
  const nemesis = ops.filter((o): o is NemesisOp => o.process === 'nemesis');
  for (const op of nemesis) {
    if (op.f === 'crash') flag('crash', `${op.target} exited by itself (code ${String(op.value?.exitCode)}): ${String(op.value?.output ?? '').split('\n').slice(-3).join(' / ')}`);
    if (op.f === 'not-recovered') liveness.push(`the cluster did not recover within ${String(op.value?.ms)} ms after ${op.fault ?? 'the run'}`);
  }
  for (const op of ops) if (op.f === 'run' && op.value.stable === false) liveness.push('high-water marks did not settle to equal values on every replica after healing');
  const starts = nemesis.filter((o) => o.f === 'start');
  // A loop, not Math.max(...spread): a soak's history has more operations than the call stack has room for arguments.
  let lastWorkload = 0;
  for (const o of produceOps) if (o.t > lastWorkload) lastWorkload = o.t;
  const gaps = new Map<string, number[]>();
  starts.forEach((s, i) => {
    const end = i + 1 < starts.length ? starts[i + 1]!.t : lastWorkload;
    const g = longestGap(okTimes, s.t, end);
    const list = gaps.get(s.fault ?? '?') ?? [];
    list.push(g);
    gaps.set(s.fault ?? '?', list);
  });
  const unavailability: Record<string, Spread> = {};
  for (const [f, list] of [...gaps].sort()) unavailability[f] = spread(list.map(Math.round));
  const firstOk = okTimes[0] ?? 0;
  const baselineGapMs = Math.round(longestGap(okTimes, firstOk, starts[0]?.t ?? lastWorkload));
  const faults: Record<string, number> = {};
  for (const s of starts) faults[s.fault ?? '?'] = (faults[s.fault ?? '?'] ?? 0) + 1;
  const skipped: Record<string, string> = {};
  for (const s of nemesis) if (s.f === 'skip') skipped[s.fault ?? '?'] = String(s.value?.reason ?? '');

  // 7. The consumer group: who held what in each generation, what it processed, what it committed.
  const assigns = ops.filter((o): o is GroupAssignOp => o.f === 'group-assign');
  const holders = new Map<string, string>(); // "generation/partition" -> member id
  for (const a of assigns) {
    for (const p of a.value) {
      const at = `${a.generation}/${p}`;
      const other = holders.get(at);
      if (other !== undefined && other !== a.member) flag('group-double-assign', `generation ${a.generation}: p${p} given to ${other} and to ${a.member} (${a.process})`);
      holders.set(at, a.member);
    }
  }
  const committed = new Map<number, number>();
  const offsetOps = ops.filter((o): o is GroupOffsetsOp => o.f === 'group-offsets');
  for (const op of offsetOps) {
    for (const [p, o] of op.value) {
      const before = committed.get(p) ?? -1;
      if (o < before) flag('group-offset-backwards', `p${p}: committed offset ${before}, later ${o} (at ${op.t} ms)`);
      committed.set(p, Math.max(before, o));
    }
  }
  const processed = new Map<string, number>();
  for (const op of ops.filter((o): o is GroupProcessOp => o.f === 'group-process')) {
    for (const [o, k] of op.value) {
      witness(op.p, o, k, `group member ${op.process} at ${op.t} ms`);
      processed.set(k, (processed.get(k) ?? 0) + 1);
    }
  }
  const commits = countCommits(ops);
  for (const c of staleCommits(ops)) flag('group-stale-commit', `${c.process} (member ${c.member}) committed ${JSON.stringify(c.value)} at generation ${c.generation}, sent at ${c.t0} ms after a later generation was handed out; accepted`);
  let drained: boolean | null = null;
  for (const op of ops) if (op.f === 'run' && typeof op.value.groupDrained === 'boolean') drained = op.value.groupDrained;
  if (drained === false) liveness.push('the consumer group did not process every partition to its high-water mark after healing');
  if (drained === true) {
    for (const [k, s] of keys) if (s.state === 'ok' && !processed.has(k)) flag('group-unprocessed', `${k} acknowledged at p${s.p}@${s.o ?? '?'} was never processed by the group`);
  }
  let reprocessed = 0;
  for (const n of processed.values()) reprocessed += n - 1;
  const group = { members: new Set(assigns.map((a) => a.member)).size, generations: new Set(assigns.map((a) => a.generation)).size, processed: processed.size, reprocessed, offsetObservations: offsetOps.length, drained, memberFaults: memberFaultOutcomes(ops), commits };

  const safe = SAFETY_KINDS.every((k) => violations[k] === 0);
  return { produce, records, reads, violations, examples, duplicates, hwmRegressions, replicas, unavailability, baselineGapMs, faults, skipped, liveness, group, safe };
}

/** The longest time in [from, to] with no acknowledgement (okTimes sorted ascending). */
export function longestGap(okTimes: readonly number[], from: number, to: number): number {
  let prev = from;
  let longest = 0;
  for (const t of okTimes) {
    if (t < from) continue;
    if (t > to) break;
    longest = Math.max(longest, t - prev);
    prev = t;
  }
  return Math.max(longest, to - prev);
}

function sha(keys: readonly string[]): string {
  return createHash('sha256').update(keys.join('\n')).digest('hex');
}

/** What became of a member fault's victim's partitions. */
export interface MemberFaultOutcome {
  fault: string;
  member: string;
  /** When the fault started (ms into the run). */
  t: number;
  /** Ms from the start until another member was given one of the victim's partitions in a later generation; null: never seen. */
  movedAfterMs: number | null;
}

/**
 * For each kill-member / pause-member: did the victim's partitions move to another member (a later
 * generation's group-assign by a different member id), and how long after the fault began? Looked
 * for up to the next fault's start. A victim that held nothing counts as moved at once.
 */
export function memberFaultOutcomes(ops: readonly Op[]): MemberFaultOutcome[] {
  const out: MemberFaultOutcome[] = [];
  const starts = ops.filter((o): o is NemesisOp => o.f === 'start');
  for (const [i, s] of starts.entries()) {
    if ((s.fault !== 'kill-member' && s.fault !== 'pause-member') || !s.target || s.target === 'none') continue;
    const memberId = String(s.value?.memberId ?? '');
    const generation = Number(s.value?.generation ?? -1);
    const partitions = new Set(Array.isArray(s.value?.partitions) ? (s.value.partitions as number[]) : []);
    const until = starts[i + 1]?.t ?? Number.POSITIVE_INFINITY;
    let movedAfterMs: number | null = partitions.size === 0 ? 0 : null;
    for (const o of ops) {
      if (movedAfterMs !== null) break;
      if (o.f !== 'group-assign' || o.t < s.t || o.t >= until) continue;
      if (o.member !== memberId && o.generation > generation && o.value.some((p) => partitions.has(p))) movedAfterMs = Math.round(o.t - s.t);
    }
    out.push({ fault: s.fault, member: s.target, t: s.t, movedAfterMs });
  }
  return out;
}

/** The group members' commits by outcome; `refused` by the coordinator's code. */
export interface CommitCounts {
  accepted: number;
  refused: Record<string, number>;
  unknown: number;
}

export function countCommits(ops: readonly Op[]): CommitCounts {
  const out: CommitCounts = { accepted: 0, refused: {}, unknown: 0 };
  for (const o of ops) {
    if (o.f !== 'group-commit') continue;
    if (o.type === 'ok') out.accepted++;
    else if (o.type === 'fail') out.refused[o.error ?? '?'] = (out.refused[o.error ?? '?'] ?? 0) + 1;
    else out.unknown++;
  }
  return out;
}

/**
 * Commits accepted although they were sent after a later generation had been handed out (some
 * member logged its group-assign for it): the coordinator had moved on, so the committer was a
 * zombie whose offsets must be refused (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID).
 */
export function staleCommits(ops: readonly Op[]): GroupCommitOp[] {
  // Generations in the order they were first handed out, with when.
  const firstSeen: [number, number][] = [];
  for (const o of ops) if (o.f === 'group-assign' && !firstSeen.some(([g]) => g === o.generation)) firstSeen.push([o.generation, o.t]);
  return ops.filter((o): o is GroupCommitOp => o.f === 'group-commit' && o.type === 'ok' && firstSeen.some(([g, t]) => g > o.generation && t < o.t0));
}
