import type { InSyncSet, IsrWrite } from '../../../broker-runtime/src/election/lease-store.js';
import { FollowerApply } from '../../../broker-runtime/src/replication/follower-apply.js';
import { FRAME_AUTH_HEADER, newFrameKey } from '../../../broker-runtime/src/replication/frame-auth.js';
import { FRAME_SENDER_HEADER } from '../../../broker-runtime/src/replication/sender-proof.js';
import { HighWatermarkWaiters } from '../../../broker-runtime/src/replication/hwm-waiters.js';
import { LeaderReplication, type ReplicationStore } from '../../../broker-runtime/src/replication/leader-replication.js';
import type { ReplicationRules } from '../../../broker-runtime/src/replication/rules.js';
import { TransportError, postHeaders, type FramePoster } from '../../../broker-runtime/src/replication/transport.js';
import { Disk, SimLog } from '../../sim/disk.js';
import { SimLogManager, SimPartitionLog } from '../../sim/sim-log.js';
import { ManualTime } from '../election/elector-harness.js';

/**
 * A leader and its followers for replication's specifications: the real LeaderReplication,
 * FollowerSession, FollowerApply and HighWatermarkWaiters over manual time, in-memory logs (the
 * simulator's) and an in-process transport. Nothing sleeps: time moves when a test advances it.
 */

export const LAG_MS = 1000;
export const RENEW_MS = 250;

export class Replica {
  readonly disk = new Disk(1);
  readonly sim: SimLog;
  readonly logs: SimLogManager;
  readonly reads: HighWatermarkWaiters;
  readonly follower: FollowerApply;
  epoch = 0;
  /** Not listening: connections are refused. */
  down = false;

  constructor(
    readonly id: string,
    readonly cluster: Cluster,
    rules: ReplicationRules = {},
  ) {
    this.sim = new SimLog(0, this.disk.parts[0]!);
    this.logs = new SimLogManager([new SimPartitionLog(this.sim, 1000)]);
    this.reads = new HighWatermarkWaiters(cluster.time.timers);
    this.follower = new FollowerApply({
      logs: this.logs,
      currentEpoch: () => this.epoch,
      isLeader: () => false,
      observeEpoch: async (epoch) => {
        this.epoch = Math.max(this.epoch, epoch);
      },
      applyTopics: () => Promise.resolve(),
      reads: this.reads,
      onApplied: () => {},
      frameKey: (epoch) => Promise.resolve(cluster.frameKeys.get(epoch) ?? null),
      log: () => {},
      clock: cluster.time.clock,
      rules,
    });
  }

  get log(): SimPartitionLog {
    return this.logs.all()[0]!;
  }

  /** Records as "offset:epoch" for short assertions. */
  held(): string[] {
    return this.sim.read(0, 1e9).map((e) => `${e.offset}:${e.epoch}`);
  }
}

/** What Redis holds for replication: the registrations and the fenced in-sync set. */
export class SpecStore implements ReplicationStore {
  isr: InSyncSet | null = null;
  readonly writes: InSyncSet[] = [];
  /** writeIsr applies the write but its answer is lost (the outcome is unknown to the leader). */
  loseAnswers = false;
  alive = new Set<string>();

  listBrokers(): Promise<{ id: string; url: string | null; alive: boolean }[]> {
    return Promise.resolve([...this.alive].sort().map((id) => ({ id, url: `sim://${id}`, alive: true })));
  }

  writeIsr(_lease: string, isr: InSyncSet): Promise<IsrWrite> {
    this.isr = isr;
    this.writes.push(isr);
    return this.loseAnswers ? Promise.reject(new Error('Command timed out')) : Promise.resolve('recorded');
  }
}

export class Cluster {
  readonly time = new ManualTime();
  readonly frameKeys = new Map<number, Buffer>();
  readonly store = new SpecStore();
  readonly replicas = new Map<string, Replica>();
  readonly staleEpochs: number[] = [];
  /** Every line the leaders logged, `LEVEL line`. */
  readonly lines: string[] = [];
  /** Every frame posted, with whether its sender proof admitted it (FollowerApply.admit). */
  readonly posts: { to: string; proven: boolean; headers: Record<string, string>; length: number }[] = [];

  add(id: string, rules: ReplicationRules = {}): Replica {
    const r = new Replica(id, this, rules);
    this.replicas.set(id, r);
    this.store.alive.add(id);
    return r;
  }

  /**
   * Frames go straight to the follower's FollowerApply; a refusal comes back as its HTTP status.
   * Replaceable before lead() (pipelining.test.ts puts a replication stream in its place).
   */
  transport: FramePoster = {
    post: async (baseUrl, _path, body, _timeoutMs, lazyHeaders = {}) => {
      const headers = postHeaders(lazyHeaders);
      const target = this.replicas.get(new URL(baseUrl).hostname);
      if (!target || target.down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      try {
        // As POST /replica/append does: admitted by its headers before the body counts, then handled.
        const proven = await target.follower.admit(headers[FRAME_AUTH_HEADER], headers[FRAME_SENDER_HEADER], body.length);
        this.posts.push({ to: target.id, proven, headers, length: body.length });
        return await target.follower.handle(body, headers[FRAME_AUTH_HEADER]);
      } catch (err) {
        throw new TransportError((err as Error).message, (err as { status?: number }).status ?? 500);
      }
    },
  };

  /** `leader` starts leading `epoch` with the in-sync set `isr`. */
  lead(leader: Replica, epoch: number, isr: string[], rules: ReplicationRules = {}, minInsync = 1): LeaderReplication {
    const key = Buffer.from(newFrameKey(), 'hex');
    this.frameKeys.set(epoch, key);
    leader.epoch = epoch;
    this.store.isr = { epoch, members: isr, version: 0 };
    const rep: LeaderReplication = new LeaderReplication({
      logs: leader.logs,
      store: this.store,
      epoch,
      frameKey: key,
      self: { id: leader.id, url: `sim://${leader.id}` },
      transport: this.transport,
      time: this.time,
      initialIsr: isr,
      minInsync: () => minInsync,
      replicaLagMs: LAG_MS,
      renewMs: RENEW_MS,
      fence: () => 'lease',
      canWrite: () => true,
      metaVersion: () => leader.logs.topicsVersion(),
      commits: new HighWatermarkWaiters(this.time.timers),
      reads: leader.reads,
      // As the broker does: the elector learns the newer epoch and demotes, which stops replication.
      onStaleEpoch: (e) => {
        this.staleEpochs.push(e);
        rep.stop(new Error(`deposed by epoch ${e}`));
      },
      onIsrChange: () => {},
      rememberIsr: () => Promise.resolve(),
      initialIsrVersion: 0,
      log: (level, line) => this.lines.push(`${level} ${line}`),
      rules,
    });
    rep.start();
    return rep;
  }

  /** The leader's produce path: append with its epoch, then tell replication. */
  append(leader: Replica, rep: LeaderReplication, values: string[]): number {
    const { lastOffset } = leader.sim.append(values, leader.epoch);
    rep.afterAppend(leader.log);
    return lastOffset;
  }
}
