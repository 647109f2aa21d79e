import { readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseCheckedNumber } from '../broker-runtime/src/log/checkpoint-checksum.js';
import { HIGH_WATERMARK_FILE } from '../broker-runtime/src/log/high-watermark.js';
import { EPOCH_CHECKPOINT_FILE } from '../broker-runtime/src/log/leader-epoch-cache.js';
import { LOG_START_FILE } from '../broker-runtime/src/log/log-start.js';
import { UNCLEAN_FILE } from '../broker-runtime/src/log/unclean-marker.js';
import { scanRecords } from '../broker-runtime/src/log/record-codec.js';
import type { ChaosBroker } from './cluster.js';
import type { Rng } from '../testkit/rng.js';
import { follower, hold, leaderOrAny, partitionFolders, restart, type FaultContext, type FaultStart, type PartitionFolder } from './targets.js';
import { fillWithBallast } from './tmpfs.js';

/**
 * Storage faults (issue 10). A full disk: the broker's tmpfs filled with a ballast file, held,
 * the ballast deleted — the broker must answer documented errors, hand over leadership, and catch
 * up by itself. Lost committed data: SIGKILL a broker and damage the end of one partition's log
 * (the last segment deleted, or truncated to zero bytes, or the tail cut while the high-water mark
 * checkpoint still names it), restart it — it must notice, stay out of leadership and re-fetch.
 * A third of the time every broker is killed and the damaged one starts alone for a few leases
 * (the case where it used to lead and make the others cut their correct copies). A flipped bit in
 * one of a partition's checkpoint files: the checksum must tell, and nothing be lost or hidden.
 */
export const STORAGE_FAULT_NAMES = ['disk-full-leader', 'disk-full-follower', 'lose-last-segment', 'truncate-last-segment', 'checkpoint-ahead', 'flip-checkpoint-bit'] as const;
export type StorageFaultName = (typeof STORAGE_FAULT_NAMES)[number];
export const DISK_FULL_FAULTS: readonly StorageFaultName[] = ['disk-full-leader', 'disk-full-follower'];

function diskFull(pick: (ctx: FaultContext) => Promise<ChaosBroker>): FaultStart {
  return async (ctx) => {
    const b = await pick(ctx);
    // The harness drops these faults at the start when it cannot mount; this is belt and braces.
    if (!b.tmpfs) return { target: b.id, detail: { skipped: 'no tmpfs for this broker' }, holdMs: 0, heal: async () => {} };
    const ballast = b.tmpfs.ballast;
    const bytes = await fillWithBallast(ballast);
    return { target: b.id, detail: { ballastBytes: bytes }, holdMs: hold(ctx, 2, 5), heal: async () => rm(ballast, { force: true }) };
  };
}

/** Damage to a stopped broker's partitions; says what it did. Exported for the unit tests. */
export type Damage = (rng: Rng, partitions: PartitionFolder[]) => Promise<Record<string, unknown>>;

const baseOf = (name: string) => Number(name.slice(0, 20));
const indexOf = (path: string) => path.replace(/\.log$/, '.index');

/** Partitions whose log holds at least one record (the damage must destroy something). */
async function withRecords(partitions: PartitionFolder[]): Promise<PartitionFolder[]> {
  const out: PartitionFolder[] = [];
  for (const p of partitions) {
    const last = p.logs[p.logs.length - 1];
    if (last && (p.logs.length > 1 || (await readFile(join(p.dir, last))).length > 0)) out.push(p);
  }
  return out;
}

export const loseLast: Damage = async (rng, partitions) => {
  const p = rng.pick(await withRecords(partitions));
  const file = join(p.dir, p.logs[p.logs.length - 1]!);
  await rm(file);
  return { partition: basename(p.dir), deleted: basename(file), segments: p.logs.length };
};

export const truncateLast: Damage = async (rng, partitions) => {
  const p = rng.pick(await withRecords(partitions));
  const file = join(p.dir, p.logs[p.logs.length - 1]!);
  await truncate(file, 0);
  return { partition: basename(p.dir), truncated: basename(file), segments: p.logs.length };
};

async function checkpointOf(dir: string): Promise<number> {
  const parsed = parseCheckedNumber(await readFile(join(dir, HIGH_WATERMARK_FILE), 'utf8').catch(() => '0'));
  return parsed.form !== 'damaged' && parsed.value > 0 ? parsed.value : 0;
}

/** Byte position of record `offset` in a segment file, or -1. */
async function positionOf(path: string, offset: number): Promise<number> {
  let at = -1;
  scanRecords(await readFile(path), { onRecord: (pos, _size, o) => (o === offset ? (at = pos) : undefined) });
  return at;
}

/** Cut 1–20 committed records off the end of the log, leaving the high-water mark checkpoint past the new end. */
export const checkpointAhead: Damage = async (rng, partitions) => {
  const candidates: { p: PartitionFolder; hwm: number }[] = [];
  for (const p of partitions) {
    const hwm = await checkpointOf(p.dir);
    if (hwm > 0 && p.logs.length) candidates.push({ p, hwm });
  }
  if (candidates.length === 0) return { skipped: 'no committed records checkpointed yet' };
  const { p, hwm } = rng.pick(candidates);
  const cutAt = hwm - rng.int(1, Math.min(20, hwm));
  const holding = p.logs.filter((n) => baseOf(n) <= cutAt).pop() ?? p.logs[0]!;
  const later = p.logs.filter((n) => baseOf(n) > baseOf(holding));
  for (const n of later) {
    await rm(join(p.dir, n));
    await rm(join(p.dir, indexOf(n)), { force: true });
  }
  const file = join(p.dir, holding);
  const at = await positionOf(file, cutAt);
  if (at >= 0) await truncate(file, at);
  await rm(indexOf(file), { force: true });
  return { partition: basename(p.dir), checkpoint: hwm, keptBelow: cutAt, cutIn: holding, segmentsDeleted: later.length, found: at >= 0 };
};

const CHECKPOINT_FILES = [HIGH_WATERMARK_FILE, EPOCH_CHECKPOINT_FILE, LOG_START_FILE, UNCLEAN_FILE];

/** One bit flipped in one checkpoint file of a partition (a bad sector, a stray write): the loader must see its checksum fail. */
export const flipCheckpointBit: Damage = async (rng, partitions) => {
  const candidates: string[] = [];
  for (const p of partitions) {
    const names = await readdir(p.dir).catch(() => [] as string[]);
    for (const n of CHECKPOINT_FILES) if (names.includes(n)) candidates.push(join(p.dir, n));
  }
  if (candidates.length === 0) return { skipped: 'no checkpoint written yet' };
  const file = rng.pick(candidates);
  const bytes = await readFile(file);
  if (bytes.length === 0) return { skipped: `${file} is empty` };
  const at = rng.int(0, bytes.length - 1);
  const bit = rng.int(0, 7);
  const before = bytes.toString('latin1');
  bytes[at] = bytes[at]! ^ (1 << bit);
  await writeFile(file, bytes);
  return { partition: basename(join(file, '..')), file: basename(file), before, after: bytes.toString('latin1') };
};

function damaged(damage: Damage): FaultStart {
  return async (ctx) => {
    const b = ctx.rng.pick(ctx.cluster.brokers);
    const alone = ctx.rng.chance(1 / 3);
    const victims = alone ? ctx.cluster.brokers : [b];
    for (const v of victims) v.down = 'killed';
    await Promise.all(victims.map((v) => v.proc.kill()));
    const partitions = await partitionFolders(b.dataDir);
    const detail = (await withRecords(partitions)).length ? await damage(ctx.rng, partitions) : { skipped: 'no records on disk yet' };
    restart(b);
    if (!alone) return { target: b.id, detail, holdMs: 0, heal: async () => {} };
    // The damaged broker alone for a few leases: it must not lead (nor hand out the missing offsets).
    return {
      target: b.id,
      detail: { ...detail, alone: true },
      holdMs: hold(ctx, 2, 4),
      heal: async () => {
        for (const v of victims) restart(v);
      },
    };
  };
}

export const STORAGE_FAULTS: Record<StorageFaultName, FaultStart> = {
  'disk-full-leader': diskFull(leaderOrAny),
  'disk-full-follower': diskFull(follower),
  'lose-last-segment': damaged(loseLast),
  'truncate-last-segment': damaged(truncateLast),
  'checkpoint-ahead': damaged(checkpointAhead),
  'flip-checkpoint-bit': damaged(flipCheckpointBit),
};
