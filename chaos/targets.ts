import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChaosBroker, ChaosCluster } from './cluster.js';
import type { Rng } from '../testkit/rng.js';

/** What every fault gets, and what it hands back (faults.ts, storage-faults.ts). */
export interface FaultContext {
  cluster: ChaosCluster;
  rng: Rng;
  leaseMs: number;
  /** The consumer group's members, for the member faults; absent when the run has none. */
  members?: GroupMembers;
}

/** A group member a fault hit, as it stood then. */
export interface MemberTarget {
  member: string;
  memberId: string;
  generation: number;
  partitions: number[];
}

/** What the member faults can do to the consumer group's members (group-workload.ts). */
export interface GroupMembers {
  readonly sessionTimeoutMs: number;
  /** A running member's name, chosen with `choose`; null when none can be hit. */
  pick(choose: <T>(xs: readonly T[]) => T): string | null;
  kill(name: string): MemberTarget;
  revive(name: string): void;
  freeze(name: string): MemberTarget;
  thaw(name: string): void;
}

export interface ActiveFault {
  target: string;
  detail?: Record<string, unknown>;
  holdMs: number;
  heal(): Promise<void>;
}

export type FaultStart = (ctx: FaultContext) => Promise<ActiveFault>;

export async function leaderOrAny(ctx: FaultContext): Promise<ChaosBroker> {
  return (await ctx.cluster.leader()) ?? ctx.rng.pick(ctx.cluster.brokers);
}

export async function follower(ctx: FaultContext): Promise<ChaosBroker> {
  const leader = await ctx.cluster.leader();
  return ctx.rng.pick(ctx.cluster.brokers.filter((b) => b !== leader));
}

/** A hold time between `lo` and `hi` leases. */
export const hold = (ctx: FaultContext, lo: number, hi: number): number => Math.round(ctx.leaseMs * ctx.rng.float(lo, hi));

export function restart(b: ChaosBroker): void {
  if (!b.proc.running()) b.proc.start();
  b.down = null;
}

/** A partition folder of a broker and its segment data files, oldest first (names only). */
export interface PartitionFolder {
  dir: string;
  logs: string[];
}

export async function partitionFolders(dataDir: string): Promise<PartitionFolder[]> {
  const topicsDir = join(dataDir, 'topics');
  const out: PartitionFolder[] = [];
  for (const part of (await readdir(topicsDir).catch(() => [] as string[])).sort()) {
    const logs = (await readdir(join(topicsDir, part)).catch(() => [] as string[])).filter((n) => /^\d{20}\.log$/.test(n)).sort();
    out.push({ dir: join(topicsDir, part), logs });
  }
  return out;
}

/** The last segment file of every partition folder of a broker. */
export async function lastSegments(dataDir: string): Promise<string[]> {
  return (await partitionFolders(dataDir)).filter((f) => f.logs.length).map((f) => join(f.dir, f.logs[f.logs.length - 1]!));
}
