import { appendFile, readFile, truncate, writeFile } from 'node:fs/promises';
import { isCompressedAt, scanRecords } from '../broker-runtime/src/log/record-codec.js';
import type { ChaosBroker } from './cluster.js';
import type { LinkMode } from './proxy.js';
import { startForger } from './forger.js';
import { MEMBER_FAULTS } from './member-faults.js';
import type { Rng } from '../testkit/rng.js';
import { STORAGE_FAULTS } from './storage-faults.js';
import { follower, hold, lastSegments, leaderOrAny, restart, type FaultContext, type FaultStart } from './targets.js';

export type { ActiveFault, FaultContext } from './targets.js';

/**
 * The nemesis' repertoire. Each fault starts by itself, says whom it hit and for how long to hold
 * it, and knows how to heal. Durations scale with the lease, so a run means the same at any lease.
 */
export const FAULT_NAMES = [
  'kill-leader',
  'kill-follower',
  'pause-leader',
  'pause-follower',
  'term-leader',
  'restart',
  'partition-broker',
  'partition-leader',
  'partition-redis',
  'delay',
  'kill-redis',
  'pause-redis',
  'redis-restart-empty',
  'garble-tail',
  'tear-batch-tail',
  'kill-restart',
  'corrupt-middle',
  'forge-frames',
  'disk-full-leader',
  'disk-full-follower',
  'lose-last-segment',
  'truncate-last-segment',
  'checkpoint-ahead',
  'flip-checkpoint-bit',
  'kill-member',
  'pause-member',
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

/**
 * What a default run injects. kill-restart is the kill loop's fault; corrupt-middle is opt-in (see
 * README of chaos/). The member faults (kill-member, pause-member) are skipped when the run has no
 * group consumers (harness.ts).
 */
export const DEFAULT_FAULTS: FaultName[] = FAULT_NAMES.filter((f) => f !== 'kill-restart' && f !== 'corrupt-middle');

const cutMode = (rng: Rng): LinkMode => (rng.chance(0.5) ? { kind: 'drop' } : { kind: 'blackhole' });

function kill(pick: (ctx: FaultContext) => Promise<ChaosBroker>, lo: number, hi: number): FaultStart {
  return async (ctx) => {
    const b = await pick(ctx);
    b.down = 'killed';
    await b.proc.kill();
    return { target: b.id, holdMs: hold(ctx, lo, hi), heal: async () => restart(b) };
  };
}

function pause(pick: (ctx: FaultContext) => Promise<ChaosBroker>): FaultStart {
  return async (ctx) => {
    const b = await pick(ctx);
    b.down = 'paused';
    b.proc.signal('SIGSTOP');
    // Past the lease (and the replica lag, which defaults to the lease): the others must move on.
    return {
      target: b.id,
      holdMs: hold(ctx, 1.5, 3),
      heal: async () => {
        b.proc.signal('SIGCONT');
        b.down = null;
      },
    };
  };
}

/** Cut `b` off from the other brokers in both directions (and from everyone else too if `all`). */
function isolate(ctx: FaultContext, b: ChaosBroker, mode: LinkMode, all: boolean): () => void {
  const others = ctx.cluster.brokers.filter((x) => x !== b);
  if (all) b.inbound.set(mode, '*');
  else b.inbound.set(mode, others.map((x) => x.id));
  for (const x of others) x.inbound.set(mode, [b.id]);
  return () => {
    b.inbound.heal();
    for (const x of others) x.inbound.heal();
  };
}

export const FAULTS: Record<FaultName, FaultStart> = {
  'kill-leader': kill(leaderOrAny, 0.3, 2),
  'kill-follower': kill(follower, 0.5, 3),
  'pause-leader': pause(leaderOrAny),
  'pause-follower': pause(follower),

  'term-leader': async (ctx) => {
    const b = await leaderOrAny(ctx);
    b.down = 'stopped';
    await b.proc.stop();
    return { target: b.id, holdMs: hold(ctx, 0.3, 1.5), heal: async () => restart(b) };
  },

  restart: async (ctx) => {
    const b = ctx.rng.pick(ctx.cluster.brokers);
    b.down = 'stopped';
    await b.proc.stop();
    restart(b);
    return { target: b.id, holdMs: 0, heal: async () => {} };
  },

  /** SIGKILL a writing broker (the leader, or a follower applying its records) and restart it at once. */
  'kill-restart': async (ctx) => {
    const b = ctx.rng.chance(0.6) ? await leaderOrAny(ctx) : await follower(ctx);
    b.down = 'killed';
    await b.proc.kill();
    restart(b);
    return { target: b.id, holdMs: 0, heal: async () => {} };
  },

  'partition-broker': async (ctx) => {
    const b = ctx.rng.pick(ctx.cluster.brokers);
    const mode = cutMode(ctx.rng);
    const healPeers = isolate(ctx, b, mode, true);
    b.redisLink.set(mode);
    return {
      target: b.id,
      detail: { mode: mode.kind },
      holdMs: hold(ctx, 1.5, 4),
      heal: async () => {
        healPeers();
        b.redisLink.heal();
      },
    };
  },

  /** The leader loses its followers but keeps Redis and its clients (Kafka's 2013 lost-write scenario). */
  'partition-leader': async (ctx) => {
    const b = await leaderOrAny(ctx);
    const mode = cutMode(ctx.rng);
    const heal = isolate(ctx, b, mode, false);
    return { target: b.id, detail: { mode: mode.kind }, holdMs: hold(ctx, 2, 4), heal: async () => heal() };
  },

  'partition-redis': async (ctx) => {
    const b = ctx.rng.chance(0.6) ? await leaderOrAny(ctx) : ctx.rng.pick(ctx.cluster.brokers);
    const mode = cutMode(ctx.rng);
    b.redisLink.set(mode);
    return { target: b.id, detail: { mode: mode.kind }, holdMs: hold(ctx, 1.5, 3), heal: async () => b.redisLink.heal() };
  },

  delay: async (ctx) => {
    const b = ctx.rng.pick(ctx.cluster.brokers);
    const mode: LinkMode = { kind: 'delay', ms: ctx.rng.int(20, 150) };
    const heal = isolate(ctx, b, mode, true);
    b.redisLink.set(mode);
    return {
      target: b.id,
      detail: { ms: mode.ms },
      holdMs: hold(ctx, 2, 4),
      heal: async () => {
        heal();
        b.redisLink.heal();
      },
    };
  },

  'kill-redis': async (ctx) => {
    await ctx.cluster.redis.kill();
    return { target: 'redis', holdMs: hold(ctx, 0.5, 2), heal: () => ctx.cluster.redis.launch() };
  },

  /** Forged replication frames at every broker while the workload runs (forger.ts). */
  'forge-frames': async (ctx) => {
    const forger = startForger(ctx.cluster, ctx.rng.stream('forger'));
    return {
      target: 'all',
      holdMs: hold(ctx, 2, 4),
      heal: async () => {
        // A 200 (by POST or on a stream) means a broker authenticated a forged frame: whatever the
        // checker finds later, that alone is a broken guarantee, so the run stops loudly here.
        const { sent, obeyed, sentByStream } = await forger.stop();
        if (obeyed > 0) throw new Error(`forge-frames: ${obeyed} of ${sent} forged frames were answered 200 (${sentByStream} sent over streams)`);
      },
    };
  },

  'pause-redis': async (ctx) => {
    ctx.cluster.redis.signal('SIGSTOP');
    return { target: 'redis', holdMs: hold(ctx, 1, 3), heal: async () => ctx.cluster.redis.signal('SIGCONT') };
  },

  'redis-restart-empty': async (ctx) => {
    await ctx.cluster.redis.kill();
    await ctx.cluster.redis.wipe();
    return { target: 'redis', holdMs: hold(ctx, 0.3, 1.5), heal: () => ctx.cluster.redis.launch() };
  },

  /** Kill a broker, append garbage to each partition's last segment (a torn write), restart it. */
  'garble-tail': async (ctx) => {
    const b = ctx.rng.pick(ctx.cluster.brokers);
    b.down = 'killed';
    await b.proc.kill();
    let garbled = 0;
    for (const file of await lastSegments(b.dataDir)) {
      if (!ctx.rng.chance(0.7)) continue;
      const garbage = Buffer.from(Array.from({ length: ctx.rng.int(1, 64) }, () => ctx.rng.int(0, 255)));
      // Half the time, a plausible length field first: the tail looks like a record cut short.
      if (ctx.rng.chance(0.5) && garbage.length >= 4) garbage.writeUInt32BE(ctx.rng.int(40, 2000), 0);
      await appendFile(file, garbage);
      garbled++;
    }
    return { target: b.id, detail: { garbled }, holdMs: 0, heal: async () => restart(b) };
  },

  /**
   * SIGKILL a follower and cut each of its last segments that ends in a compressed batch somewhere
   * inside that batch (a write torn mid-batch), restart. The batch must be cut at start-up and
   * re-fetched whole from the leader; none of its records may be lost or served half.
   */
  'tear-batch-tail': async (ctx) => {
    const b = await follower(ctx);
    b.down = 'killed';
    await b.proc.kill();
    let torn = 0;
    for (const file of await lastSegments(b.dataDir)) {
      const bytes = await readFile(file);
      let last = -1;
      let size = 0;
      scanRecords(bytes, { onRecord: (pos, s) => ((last = pos), (size = s)) });
      if (last < 0 || !isCompressedAt(bytes, last)) continue;
      await truncate(file, last + ctx.rng.int(1, size - 1));
      torn++;
    }
    return { target: b.id, detail: { torn }, holdMs: 0, heal: async () => restart(b) };
  },

  /**
   * Kill a follower, flip one bit inside a record in the middle of one partition's committed data,
   * restart it. Recovery must mark the partition unclean (not silently drop what follows), keep
   * the broker from leading, and re-fetch from the leader.
   */
  'corrupt-middle': async (ctx) => {
    const b = await follower(ctx);
    b.down = 'killed';
    await b.proc.kill();
    const flipped = await flipMiddleBit(ctx.rng, await lastSegments(b.dataDir));
    return { target: b.id, detail: flipped ?? { flipped: false }, holdMs: 0, heal: async () => restart(b) };
  },

  ...STORAGE_FAULTS,
  ...MEMBER_FAULTS,
};

/** Flip one payload bit of a record that has valid records after it, in one of `files`. */
export async function flipMiddleBit(rng: Rng, files: string[]): Promise<Record<string, unknown> | undefined> {
  for (const file of rng.shuffle(files)) {
    const bytes = await readFile(file);
    const starts: number[] = [];
    scanRecords(bytes, { onRecord: (pos) => starts.push(pos) });
    if (starts.length < 3) continue;
    const i = rng.int(0, starts.length - 3);
    const start = starts[i]!;
    const end = starts[i + 1]!;
    // Past the header (length, crc, offset, epoch: 20 bytes): a flip the CRC catches, offsets intact.
    const at = rng.int(start + 20, end - 1);
    bytes[at]! ^= 1 << rng.int(0, 7);
    await writeFile(file, bytes);
    return { file, record: i, of: starts.length, byte: at };
  }
  return undefined;
}
