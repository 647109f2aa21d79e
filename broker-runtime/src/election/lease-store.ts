import type { Redis, RedisOptions } from 'ioredis';
import type { KafkaAddress } from '../kafka/backend.js';
import { closeRedis, connectRedis, type RedisTarget } from '../redis/connect.js';
import { MAX_LEADER_EPOCH, isStorableEpoch, storableOrZero } from './epoch-range.js';
import type { ClusterKeys } from './keys.js';
import { candidacyEpoch } from './lease-machine.js';
import { ACQUIRE_LUA, FENCED_HSET_LUA, FENCED_SET_LUA, PRODUCER_ID_LUA, RELEASE_LUA, RENEW_LUA, STATE_HISTORY_LUA } from './scripts.js';

export interface LeaseHolder {
  id: string;
  url: string;
  epoch: number;
}

export interface InSyncSet {
  epoch: number;
  members: string[];
  /** Counts the leader's writes within its epoch: (epoch, version) orders every in-sync set ever written. */
  version?: number;
}

export interface BrokerRegistration {
  id: string;
  url: string;
  /** The broker's Kafka listener (--kafka-port), when it has one. */
  kafka?: KafkaAddress;
  /**
   * Present while the broker's logs end below a high-water mark mirrored into Redis
   * (election/mirrored-commits.ts): the sum of its log end offsets, so that when every in-sync
   * replica is short (a power cut took every copy's unsynced tail) the one holding most may lead.
   */
  short?: { logEndTotal: number };
  /** The registering process's random instance (GET /health `instance`): tells a second process with the same --id from a restart. */
  instance?: string;
  /** The settings every broker of the cluster must share (broker/settings-drift.ts), compared by the others. */
  settings?: Record<string, string>;
}

export interface Candidacy {
  id: string;
  highestEpoch: number;
  lastLogEpoch: number;
  logEndTotal: number;
  /** The newest in-sync set this broker has seen (for recovery when Redis lost its copy). */
  isr?: InSyncSet | null;
}

/**
 * What the candidacies stated about the past since this Redis started (STATE_HISTORY_LUA): kept
 * after they expire, so a broker that went quiet after stating its candidacy still counts.
 */
export interface StatedHistory {
  /** The highest epoch any candidacy stated (its broker's highest, or its log's last). */
  highestEpoch: number;
  /** The newest in-sync set any candidacy stated. */
  isr: InSyncSet | null;
}

/** The live candidacies, and what every candidacy since this Redis started stated. */
export interface CandidateList {
  candidates: Candidacy[];
  stated: StatedHistory;
}

export type AcquireMode = 'isr' | 'recover' | 'unclean';
export type AcquireResult =
  | { won: true; epoch: number; value: string; isr: InSyncSet | null }
  /** `notReplicated`: the lease was taken on the master but too few replicas acknowledged it, so it was given back. */
  | { won: false; reason: string; notReplicated?: boolean };

export type IsrWrite = 'recorded' | 'lease-lost' | 'not-replicated';

/** The scripts, on every connection that runs them. */
function defineScripts(redis: Redis): Scripted {
  redis.defineCommand('yakAcquire', { numberOfKeys: 5, lua: ACQUIRE_LUA });
  redis.defineCommand('yakRenew', { numberOfKeys: 1, lua: RENEW_LUA });
  redis.defineCommand('yakRelease', { numberOfKeys: 2, lua: RELEASE_LUA });
  redis.defineCommand('yakFencedSet', { numberOfKeys: 2, lua: FENCED_SET_LUA });
  redis.defineCommand('yakFencedHset', { numberOfKeys: 2, lua: FENCED_HSET_LUA });
  redis.defineCommand('yakProducerId', { numberOfKeys: 2, lua: PRODUCER_ID_LUA });
  redis.defineCommand('yakStateHistory', { numberOfKeys: 1, lua: STATE_HISTORY_LUA });
  return redis as Scripted;
}

type Scripted = Redis & {
  yakAcquire(k1: string, k2: string, k3: string, k4: string, k5: string, ...args: (string | number)[]): Promise<[number, string, string | null]>;
  yakRenew(k1: string, ...args: (string | number)[]): Promise<number>;
  yakRelease(k1: string, k2: string, value: string): Promise<number>;
  yakFencedSet(k1: string, k2: string, value: string, target: string): Promise<number>;
  yakFencedHset(k1: string, k2: string, ...args: string[]): Promise<number>;
  yakProducerId(k1: string, k2: string): Promise<[number, number | string]>;
};

/** A MULTI also carries the scripts defined on its connection (ioredis adds them to pipelines). */
type ScriptedMulti = ReturnType<Redis['multi']> & { yakStateHistory(k1: string, epoch: number, isrJson: string): ScriptedMulti };

/**
 * The thin Redis adapter for election and cluster membership. Every call is one round trip;
 * decisions live in decisions.ts and elector.ts. Commands time out (commandTimeout) instead of
 * queueing forever while Redis is down, because the elector must keep its own clock.
 */
export class LeaseStore {
  private readonly redis: Scripted;
  /**
   * In-sync set writes and their WAIT: WAIT blocks its connection until replicas acknowledge (up to
   * its timeout), and the lease renew must never queue behind it.
   */
  private readonly durable: Scripted;
  private subscriber: Redis | null = null;
  private generation = 0;
  private readonly waitMs: number;
  private lastError: string | null = null;

  /**
   * `waitReplicas`: how many Redis replicas must acknowledge a lease acquisition or an in-sync set
   * change before the broker acts on it (Redis replicates asynchronously: a failover to a replica
   * that missed them would hand out the same epoch twice, or bring back an older, larger set).
   */
  constructor(
    private readonly target: RedisTarget,
    private readonly keys: ClusterKeys,
    commandTimeoutMs: number,
    private readonly waitReplicas = 0,
    /** How to open a connection; connectRedis unless a test hands in another client (an ioredis Cluster). */
    private readonly connect: (target: RedisTarget, options: RedisOptions) => Redis = connectRedis,
  ) {
    const options = {
      commandTimeout: commandTimeoutMs,
      maxRetriesPerRequest: 1,
      connectTimeout: Math.max(1000, commandTimeoutMs),
      retryStrategy: (times: number) => Math.min(50 * times, 500),
      lazyConnect: false,
    };
    // WAIT's own timeout ends well before the command timeout, so WAIT answers (with a count) rather than failing.
    this.waitMs = Math.max(50, Math.floor(commandTimeoutMs / 2));
    const redis = this.connect(target, options);
    redis.on('error', (err: Error) => {
      // Reported through failed commands (ioredis reconnects by itself); kept because a failed
      // command often says only "Command timed out" while the reason is here (a Sentinel's NOAUTH).
      this.lastError = err.message.replace(/ Retrying from scratch after \d+ms\./, '');
    });
    redis.on('ready', () => (this.lastError = null));
    redis.on('ready', () => this.generation++);
    this.redis = defineScripts(redis);
    const durable = this.connect(target, options);
    durable.on('error', () => {});
    this.durable = defineScripts(durable);
  }

  /** Counts (re)connections: a change means Redis may have restarted (and lost its data) meanwhile. */
  connectionGeneration(): number {
    return this.generation;
  }

  isConnected(): boolean {
    return this.redis.status === 'ready';
  }

  /** While not connected: the last error of the connection itself (null once it is ready again). */
  connectionProblem(): string | null {
    return this.redis.status === 'ready' ? null : this.lastError;
  }

  /** Take the lease (see ACQUIRE_LUA); `frameKey` is stored under the new epoch in the same step. */
  async acquire(id: string, url: string, leaseMs: number, minEpoch: number, mode: AcquireMode, frameKey: string): Promise<AcquireResult> {
    if (!Number.isSafeInteger(minEpoch) || minEpoch < 0 || minEpoch > MAX_LEADER_EPOCH) throw new RangeError(`minEpoch ${minEpoch} is outside 0..${MAX_LEADER_EPOCH}`);
    const k = this.keys;
    const [epoch, value, isr] = await this.redis.yakAcquire(k.leader, k.epoch, k.isr, k.frameKeys, k.identity, id, url, Math.round(leaseMs), minEpoch, mode, frameKey, MAX_LEADER_EPOCH, this.identityToClaim());
    if (epoch <= 0) return { won: false, reason: value };
    if (!(await this.replicated(this.redis))) {
      // Not leading on an epoch a failover could hand out again: give it back and try later.
      await this.redis.yakRelease(k.leader, k.events, value).catch(() => {});
      return {
        won: false,
        reason: `fewer than ${this.waitReplicas} Redis replica(s) acknowledged the lease within ${this.waitMs} ms (--redis-wait-replicas ${this.waitReplicas}; a master with no replicas needs 0, and then a failover may lose what it wrote)`,
        notReplicated: true,
      };
    }
    return { won: true, epoch, value, isr: isr ? parseIsr(isr) : null };
  }

  /**
   * True once `waitReplicas` replicas hold every write this connection made (WAIT), or at once
   * when none are asked for. A false answer leaves the write on the master: not lost, not durable.
   */
  private async replicated(conn: Redis): Promise<boolean> {
    if (this.waitReplicas === 0) return true;
    return (await conn.wait(this.waitReplicas, this.waitMs)) >= this.waitReplicas;
  }

  /**
   * The next (epoch, n) pair for a producer id (PRODUCER_ID_LUA), on the connection that WAITs:
   * with --redis-wait-replicas, a pair is answered only once replicas hold the count, so a Redis
   * failover cannot count it again. Throws with the reason when no lease is held or replicas lag.
   */
  async nextProducerId(): Promise<{ epoch: number; n: number }> {
    const [epoch, n] = await this.durable.yakProducerId(this.keys.leader, this.keys.producerIds);
    if (epoch <= 0 || typeof n !== 'number') throw new Error(String(n));
    if (!(await this.replicated(this.durable))) throw new Error(`fewer than ${this.waitReplicas} Redis replica(s) acknowledged the producer id count within ${this.waitMs} ms`);
    return { epoch, n };
  }

  /** Whether a broker of a version before the hash-tagged key names holds the lease (LEGACY_LEASE_KEY). */
  async legacyLeaseHeld(): Promise<boolean> {
    try {
      return (await this.redis.exists(this.keys.legacyLeader)) === 1;
    } catch (err) {
      // An ACL user limited to `{cluster}:*` may not read the old name: then no old broker can write it either.
      if ((err as Error).message.startsWith('NOPERM')) return false;
      throw err;
    }
  }

  /** The frame key of the leadership with `epoch`, as stored when it took the lease; null if none. */
  async frameKey(epoch: number): Promise<string | null> {
    return this.redis.hget(this.keys.frameKeys, String(epoch));
  }

  async renew(value: string, leaseMs: number): Promise<boolean> {
    return (await this.redis.yakRenew(this.keys.leader, value, Math.round(leaseMs))) === 1;
  }

  async release(value: string): Promise<boolean> {
    return (await this.redis.yakRelease(this.keys.leader, this.keys.events, value)) === 1;
  }

  /** The current lease holder and the lease's remaining time as Redis sees it. */
  async readLeader(): Promise<{ holder: LeaseHolder | null; pttlMs: number; isr: InSyncSet | null; epochCounter: number }> {
    const res = await this.redis.multi().get(this.keys.leader).pttl(this.keys.leader).get(this.keys.isr).get(this.keys.epoch).exec();
    const value = res?.[0]?.[1] as string | null;
    const pttl = Number(res?.[1]?.[1] ?? -2);
    const isr = res?.[2]?.[1] as string | null;
    // Out-of-range values (a forged frame's epoch, written before frames were authenticated) read as none.
    const epoch = storableOrZero(Number(res?.[3]?.[1] ?? 0));
    // A lease without an expiry (PTTL -1) is no broker's (they all set one): read as none, and
    // ACQUIRE_LUA replaces it, or it would keep every broker following a leader that never renews.
    return { holder: value && pttl !== -1 ? parseLeaseHolder(value) : null, pttlMs: pttl, isr: isr ? parseIsr(isr) : null, epochCounter: epoch };
  }

  /**
   * Record the in-sync set, fenced by the lease: 'recorded' once it is also on `waitReplicas`
   * replicas; 'lease-lost' when the lease is not ours (nothing written); 'not-replicated' when the
   * master has it but too few replicas acknowledged in time — a failover may bring back the set
   * before, so the caller must act on the larger of the two.
   */
  async writeIsr(leaseValue: string, isr: InSyncSet): Promise<IsrWrite> {
    if ((await this.durable.yakFencedSet(this.keys.leader, this.keys.isr, leaseValue, JSON.stringify(isr))) !== 1) return 'lease-lost';
    return (await this.replicated(this.durable)) ? 'recorded' : 'not-replicated';
  }

  async mirrorHash(leaseValue: string, hash: 'hwm' | 'topics', fields: Map<string, string | number>): Promise<boolean> {
    if (fields.size === 0) return true;
    const args: string[] = [];
    for (const [f, v] of fields) args.push(f, String(v));
    return (await this.redis.yakFencedHset(this.keys.leader, this.keys[hash], leaseValue, ...args)) === 1;
  }

  /**
   * Register (liveness, with a PX expiry) and, given a candidacy, state it: the candidacy expires
   * with the registration, what it says about the past (the highest epoch, the newest in-sync set)
   * is kept in the stated history in the same step (STATE_HISTORY_LUA).
   */
  async register(reg: BrokerRegistration, ttlMs: number, candidacy: Candidacy | null): Promise<void> {
    // The registration it replaces comes back with it (GET before SET in one MULTI, any Redis version).
    const m = this.redis.multi().get(this.keys.broker(reg.id)).set(this.keys.broker(reg.id), JSON.stringify(reg), 'PX', Math.round(ttlMs)).sadd(this.keys.brokers, reg.id) as ScriptedMulti;
    if (candidacy) {
      m.set(this.keys.candidate(reg.id), JSON.stringify(candidacy), 'PX', Math.round(ttlMs));
      const isr = candidacy.isr && isStorableEpoch(candidacy.isr.epoch) ? JSON.stringify({ epoch: candidacy.isr.epoch, members: candidacy.isr.members, version: candidacy.isr.version ?? 0 }) : '';
      m.yakStateHistory(this.keys.statedHistory, candidacyEpoch(candidacy), isr);
    }
    const results = await m.exec();
    const replaced = results?.[0]?.[1];
    const previous = typeof replaced === 'string' ? parseRegistration(replaced) : null;
    // Another process's registration replaced after this one registered once: it writes under the
    // same --id (before the first write it can be this broker's previous life, left by a crash).
    if (reg.instance !== undefined && this.registeredInstances.has(reg.instance) && previous?.instance !== undefined && previous.instance !== reg.instance) {
      this.onRegistrationReplaced(previous.url ?? '?');
    }
    if (reg.instance !== undefined) this.registeredInstances.add(reg.instance);
  }

  /** Told the URL of another process whose registration under this broker's id register() replaced (broker.ts: the duplicate --id warning). */
  onRegistrationReplaced: (otherUrl: string) => void = () => undefined;
  private readonly registeredInstances = new Set<string>();

  /**
   * The cluster identity a lease acquisition sets when none is set (broker/cluster-identity.ts):
   * the one this broker's data folder remembers, else a fresh one. Empty: set none.
   */
  identityToClaim: () => string = () => '';

  /** `INFO server` and `INFO memory` of the Redis this store speaks to (the master, with Sentinels). */
  async serverInfo(): Promise<string> {
    const [server, memory] = await Promise.all([this.redis.info('server'), this.redis.info('memory')]);
    return `${server}\n${memory}`;
  }

  /** The cluster's identity as Redis holds it, or null when none was set (a new cluster, or a Redis that lost its data). */
  async clusterIdentity(): Promise<string | null> {
    return this.redis.get(this.keys.identity);
  }

  /** Set the cluster's identity unless one is set (SET NX); the one Redis holds afterwards. */
  async claimClusterIdentity(id: string): Promise<string> {
    const res = await this.durable.multi().set(this.keys.identity, id, 'NX').get(this.keys.identity).exec();
    const failed = res?.find(([err]) => err)?.[0];
    if (!res || failed) throw failed ?? new Error('the cluster identity write was aborted');
    return res[1]![1] as string;
  }

  /** A broker's registration as it stands, and how long it has left (ms; 0 when there is none). */
  async readRegistration(id: string): Promise<{ reg: BrokerRegistration | null; ttlMs: number }> {
    const res = await this.redis.multi().get(this.keys.broker(id)).pttl(this.keys.broker(id)).exec();
    const failed = res?.find(([err]) => err)?.[0];
    if (!res || failed) throw failed ?? new Error('the registration read was aborted');
    const raw = res[0]![1] as string | null;
    let reg: BrokerRegistration | null = null;
    try {
      reg = raw ? (JSON.parse(raw) as BrokerRegistration) : null;
    } catch {
      reg = null;
    }
    return { reg, ttlMs: Math.max(0, Number(res[1]![1])) };
  }

  async deregister(id: string): Promise<void> {
    await this.redis.del(this.keys.broker(id), this.keys.candidate(id));
  }

  /** Every broker that ever registered; `alive` while its registration has not expired. */
  async listBrokers(): Promise<{ id: string; url: string | null; alive: boolean; kafka?: KafkaAddress; short?: { logEndTotal: number }; settings?: Record<string, string>; instance?: string }[]> {
    const ids = (await this.redis.smembers(this.keys.brokers)).sort();
    if (ids.length === 0) return [];
    const regs = await this.redis.mget(...ids.map((id) => this.keys.broker(id)));
    return ids.map((id, i) => {
      const raw = regs[i];
      // A registration exists (the broker is alive) even when its value is not one a broker wrote;
      // only the fields that check out are used, so one bad key cannot stop the listing.
      const reg = raw ? parseRegistration(raw) : null;
      return { id, url: reg?.url ?? null, alive: raw !== null && raw !== undefined, ...(reg?.kafka ? { kafka: reg.kafka } : {}), ...(reg?.settings ? { settings: reg.settings } : {}), ...(reg?.instance !== undefined ? { instance: reg.instance } : {}), ...(reg?.short ? { short: reg.short } : {}) };
    });
  }

  /** The high-water marks the leaders mirrored (HGETALL of `{cluster}:hwm`): field `topic/partition`, value the mark. */
  async mirroredHighWatermarks(): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.hwm);
  }

  /** The live candidacies (two round trips: the broker ids with the stated history, then MGET), and the stated history. */
  async listCandidates(): Promise<CandidateList> {
    const res = await this.redis.multi().smembers(this.keys.brokers).hgetall(this.keys.statedHistory).exec();
    const failed = res?.find(([err]) => err)?.[0];
    if (!res || failed) throw failed ?? new Error('the candidate listing was aborted');
    const ids = res[0]![1] as string[];
    const hash = res[1]![1] as Record<string, string>;
    const isr = hash.isr ? parseIsr(hash.isr) : null;
    const stated: StatedHistory = { highestEpoch: storableOrZero(Number(hash.epoch ?? 0)), isr: isr && isr.epoch > 0 ? isr : null };
    if (ids.length === 0) return { candidates: [], stated };
    const raws = await this.redis.mget(...ids.map((id) => this.keys.candidate(id)));
    const candidates: Candidacy[] = [];
    raws.forEach((raw, i) => {
      // A candidacy no broker wrote (not JSON, numbers that are not numbers, another broker's id
      // under this one's key) is left out: one bad key must not stop every broker's election.
      const c = raw ? parseCandidacy(raw, ids[i]!) : null;
      if (c) candidates.push(c);
    });
    return { candidates, stated };
  }

  /** Calls `onReleased` whenever a leader gives its lease up, so candidates need not wait a poll. */
  async subscribeReleases(onReleased: () => void): Promise<void> {
    const sub = this.connect(this.target, { retryStrategy: (times) => Math.min(50 * times, 500), maxRetriesPerRequest: null });
    sub.on('error', () => {});
    sub.on('message', () => onReleased());
    this.subscriber = sub;
    try {
      await sub.subscribe(this.keys.events);
    } catch {
      /* ioredis resubscribes on reconnect */
    }
  }

  async close(): Promise<void> {
    if (this.subscriber) void closeRedis(this.subscriber);
    void closeRedis(this.durable);
    await closeRedis(this.redis);
  }
}

/** The lease key's value as the brokers write it ({id, url, epoch}); null for anything else. */
export function parseLeaseHolder(value: string): LeaseHolder | null {
  try {
    const v = JSON.parse(value) as LeaseHolder;
    return typeof v.id === 'string' && isStorableEpoch(v.epoch) ? v : null;
  } catch {
    return null;
  }
}

function parseIsr(value: string): InSyncSet | null {
  try {
    const v = JSON.parse(value) as InSyncSet;
    if (typeof v !== 'object' || v === null) return null;
    // cjson encodes an empty Lua table as {}, never as []. Members that are not a list at all read
    // as no in-sync set, as ACQUIRE_LUA reads them; ids that are not strings are dropped.
    const members = Array.isArray(v.members) ? v.members.filter((m): m is string => typeof m === 'string') : isEmptyObject(v.members) ? [] : null;
    if (members === null) return null;
    // An unstorable epoch must not outrank every valid in-sync set that comes after it.
    const epoch = storableOrZero(Number(v.epoch));
    const version = Number(v.version ?? 0);
    return { epoch, members, version: epoch === 0 || !Number.isSafeInteger(version) ? 0 : version };
  } catch {
    return null;
  }
}

function isEmptyObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A registration's usable fields (brokers write {id, url, kafka?, short?}); null when it is not a JSON object. */
function parseRegistration(raw: string): { url: string | null; kafka?: KafkaAddress; short?: { logEndTotal: number }; instance?: string; settings?: Record<string, string> } | null {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!isObject(v)) return null;
  const url = typeof v.url === 'string' && /^https?:\/\//.test(v.url) ? v.url : null;
  const k = v.kafka;
  const kafka = isObject(k) && Number.isSafeInteger(k.node_id) && typeof k.host === 'string' && k.host.length > 0 && Number.isInteger(k.port) && (k.port as number) > 0 && (k.port as number) < 65536
    ? { node_id: k.node_id as number, host: k.host, port: k.port as number }
    : undefined;
  const total = isObject(v.short) ? v.short.logEndTotal : undefined;
  // Settings are compared as strings (broker/settings-drift.ts): anything else in them is left out.
  const settings = isObject(v.settings) ? Object.fromEntries(Object.entries(v.settings).filter((e): e is [string, string] => typeof e[1] === 'string')) : undefined;
  return {
    url,
    ...(kafka ? { kafka } : {}),
    ...(Number.isSafeInteger(total) && (total as number) >= 0 ? { short: { logEndTotal: total as number } } : {}),
    ...(typeof v.instance === 'string' ? { instance: v.instance } : {}),
    ...(settings ? { settings } : {}),
  };
}

/** A candidacy as a broker writes it under its own key; null for anything else. */
function parseCandidacy(raw: string, id: string): Candidacy | null {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!isObject(v) || v.id !== id) return null;
  const { highestEpoch, lastLogEpoch, logEndTotal } = v;
  if (!Number.isSafeInteger(highestEpoch) || !Number.isSafeInteger(lastLogEpoch) || (lastLogEpoch as number) < -1 || !Number.isSafeInteger(logEndTotal) || (logEndTotal as number) < 0) return null;
  const isr = isObject(v.isr) ? parseIsr(JSON.stringify(v.isr)) : null;
  return { id, highestEpoch: storableOrZero(highestEpoch as number), lastLogEpoch: lastLogEpoch as number, logEndTotal: logEndTotal as number, isr: isr && isStorableEpoch(isr.epoch) ? isr : null };
}
