import type { Violation } from './checker.js';
import type { SimLog } from './disk.js';
import { configFor, type FaultKind, type SimConfig } from './config.js';
import { Nemesis } from './nemesis.js';
import { World } from './world.js';

export interface RunResult {
  seed: number;
  ok: boolean;
  short: boolean;
  violations: Violation[];
  steps: number;
  simMs: number;
  config: SimConfig;
  faults: Partial<Record<FaultKind, number>>;
  stats: { elections: number; stillborn: number; unguarded: number; acks: number; refused: number; maxWriters: number; committed: number[]; refusedButCommitted: number; excludedAcks: number };
  trace: string;
}

export interface RunOptions {
  trace?: boolean;
  config?: Partial<SimConfig>;
  /** Stop a runaway run (the run itself is bounded by simulated time). */
  maxSteps?: number;
  /** Shorter runs for the npm test subset: at most 6 leases (and 20 s) of faults. */
  short?: boolean;
}

/** Every microtask the last event started runs before the next event: the order stays a function of the seed. */
const drain = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * One seed: faults for `chaosMs`, then everything heals; the client keeps writing for a while,
 * stops, and the cluster must converge (one leader, every replica at its high-water mark, every
 * acknowledged record everywhere) within `settleMs`. Invariants are checked after every event.
 */
export async function runSeed(seed: number, opts: RunOptions = {}): Promise<RunResult> {
  let cfg = configFor(seed, opts.config);
  if (opts.short) cfg = { ...cfg, chaosMs: Math.min(cfg.chaosMs, cfg.leaseMs * 6, 20_000), settleMs: Math.max(10_000, cfg.leaseMs * 4), clientGapMs: Math.max(cfg.clientGapMs, 10) };
  const w = new World(cfg, opts.trace ?? false);
  const nemesis = new Nemesis(w);
  const maxSteps = opts.maxSteps ?? 2_000_000;
  const failed = () => w.checker.violations.length > 0 || w.steps >= maxSteps;
  const runUntil = async (until: number, done: () => boolean = () => false) => {
    while (w.sched.now < until && !failed() && !done()) {
      if (!w.step()) break;
      await drain();
      w.checker.afterStep(w.live());
    }
  };

  w.trace.add(`seed ${seed}: ${describe(cfg)}`);
  w.start();
  nemesis.start();
  await runUntil(cfg.chaosMs);
  nemesis.heal();
  await runUntil(cfg.chaosMs + cfg.settleMs / 2);
  w.clientOn = false;
  const deadline = w.sched.now + cfg.settleMs;
  await runUntil(deadline, () => converged(w));
  if (!failed()) {
    if (!converged(w)) w.checker.fail('the cluster settles after the faults heal', `not converged ${Math.round(cfg.settleMs)} ms after the client stopped: ${state(w)}`);
    else {
      const leader = w.live().find((x) => x.broker.writable())!.broker;
      w.checker.final(w.live(), (id, p) => {
        const follower = w.live().find((x) => x.id === id)?.broker;
        return follower !== undefined && keepsWhatThePowerLossTook(w, leader.logs[p]!, follower.logs[p]!, p);
      });
    }
  }
  if (w.steps >= maxSteps) w.checker.fail('run length', `stopped after ${maxSteps} steps`);
  const c = w.checker;
  return {
    seed,
    ok: c.violations.length === 0,
    short: opts.short ?? false,
    violations: c.violations,
    steps: w.steps,
    simMs: Math.round(w.sched.now),
    config: cfg,
    faults: Object.fromEntries(nemesis.counts),
    stats: { ...c.stats, committed: c.committedCounts(), refusedButCommitted: c.refusedButCommitted(), excludedAcks: c.excludedAcks() },
    trace: w.trace.text(),
  };
}

/** One broker can write, and every live replica has the leader's log, all of it committed. */
function converged(w: World): boolean {
  const live = w.live();
  const writers = live.filter((x) => x.broker.writable());
  if (writers.length !== 1 || live.length !== w.procs.size) return false;
  const leader = writers[0]!.broker;
  return leader.logs.every((log, p) => {
    const end = log.logEndOffset();
    if (log.highWatermark() !== end) return false;
    return live.every((x) => {
      const mine = x.broker.logs[p]!;
      return (mine.logEndOffset() === end && mine.highWatermark() === end) || keepsWhatThePowerLossTook(w, log, mine, p) || keepsWhatAnUnguardedRecoveryLost(w, log, mine);
    });
  });
}

/**
 * A follower that refuses to cut committed records (below its high-water mark) which the leader
 * lost to a power loss (the leader was elected without them: a power loss is outside the
 * guarantees under fsync 'interval'). The follower is right to keep them (replication/divergence.ts,
 * decideTruncation) and so does not converge; that is the expected end state, not a hang.
 */
function keepsWhatThePowerLossTook(w: World, leader: SimLog, follower: SimLog, p: number): boolean {
  const hwm = follower.highWatermark();
  let first = 0;
  while (first < hwm && leader.entry(first)?.value === follower.entry(first)?.value) first++;
  if (first >= hwm) return false;
  for (let o = first; o < hwm; o++) if (!w.checker.lostToPowerLoss(p, o, follower.entry(o)!.value)) return false;
  return true;
}

/**
 * After a recovery election no in-sync replica survived (checker.unguarded: outside the
 * guarantees), the new leader may lack records a follower holds as committed; that follower is
 * right to refuse cutting them (decideTruncation) and so does not converge (seeds 243 and 751).
 */
function keepsWhatAnUnguardedRecoveryLost(w: World, leader: SimLog, follower: SimLog): boolean {
  if (!w.checker.unguarded) return false;
  const hwm = follower.highWatermark();
  let first = 0;
  while (first < hwm && leader.entry(first)?.value === follower.entry(first)?.value && leader.entry(first)?.epoch === follower.entry(first)?.epoch) first++;
  return first < hwm;
}

function state(w: World): string {
  const r = w.redis.peek();
  const brokers = w.live().map((x) => {
    const b = x.broker;
    const role = b.writable() ? 'LEADER' : b.elector.isLeader() ? 'leader(not writable)' : 'follower';
    const isr = b.leaderRep ? ` isr [${b.leaderRep.inSyncMembers().join(',')}]` : '';
    return `${x.id} ${role} e${b.elector.currentEpoch()}${isr} logs ${b.logs.map((l) => `${l.highWatermark()}/${l.logEndOffset()}`).join(' ')}`;
  });
  return `redis: holder ${r.holder ? `${r.holder.id}@e${r.holder.epoch}` : 'none'}, isr ${r.isr ? `[${r.isr.members.join(',')}]` : 'none'}, epoch ${r.epoch}; ${brokers.join('; ')}`;
}

export function describe(cfg: SimConfig): string {
  const faults = Object.entries(cfg.faults).filter(([, n]) => n).map(([k]) => k).join(',');
  return (
    `${cfg.nodes.length} brokers, ${cfg.partitions} partition(s), lease ${cfg.leaseMs}/renew ${cfg.renewMs}/lag ${cfg.replicaLagMs} ms, min-insync ${cfg.minInsync}, ` +
    `net ${cfg.net.maxDelayMs} ms drop ${cfg.net.dropRate} slow ${cfg.net.slowRate}${cfg.net.reorder ? ' reorder' : ''}, drift ${cfg.clockDrift}, ` +
    (cfg.streams > 1 ? `replication streams (${cfg.streams} in flight), ` : '') +
    `faults every ~${Math.round(cfg.meanFaultGapMs)} ms for ${Math.round(cfg.chaosMs)} ms (${faults})`
  );
}
