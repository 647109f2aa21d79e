import { type Attempt, YakClientError, YakRetriesExhaustedError, YakThrottledError, outcome } from './errors.js';
import { LeaderDiscovery } from './leader-discovery.js';
import { type RetryDecision, type RetryOptions, type RetryPolicy, retryPolicy, withRetry } from './retry.js';
import { type Call, type Connection, exchange } from './transport.js';
import { type ClientTlsOptions, tlsFetch } from './tls-fetch.js';
import type {
  Compression,
  BatchAnswer,
  ClusterAnswer,
  ConsumeAnswer,
  CreateTopicAnswer,
  TopicConfigAnswer,
  TopicConfigValues,
  HealthAnswer,
  LeaderAnswer,
  MetricsAnswer,
  ProduceAnswer,
  ProduceInput,
  TopicsAnswer,
  CommitOffsetsAnswer,
  GroupAnswer,
  GroupOffsetsAnswer,
  GroupsAnswer,
  JoinGroupAnswer,
  JoinGroupInput,
  ResetOffsetsAnswer,
  ResetOffsetsInput,
  TopicPartitionRef,
} from './types.js';

/**
 * `ca`, `cert`, `key` (ClientTlsOptions) are for https:// brokers whose certificate is not signed
 * by a CA the system trusts (`ca`: the cluster's CA, PEM) and, for brokers started with
 * --tls-client-auth, the client certificate and key (mutual TLS). https:// URLs work without
 * them when the system CAs verify the brokers.
 */
export interface YakClientOptions extends ClientTlsOptions {
  /** Seed broker URLs, e.g. http://127.0.0.1:5001. Any live one is enough to find the leader. */
  brokers: string[];
  /** Per HTTP request (a consume adds its wait_ms). Default 10 s. */
  timeoutMs?: number;
  retry?: RetryOptions;
  /**
   * `<principal>:<secret>`, sent as `Authorization: Bearer <token>` on every call, for brokers
   * started with --auth-file (docs/security.md).
   */
  token?: string;
}

export interface ConsumeOptions {
  /** At most this many records (broker default 500). */
  max?: number;
  /** Long-poll up to this long for records past the high-water mark. */
  waitMs?: number;
  /** Ask this broker; otherwise the known leader, else any seed. */
  broker?: string;
  signal?: AbortSignal;
}

export interface ProduceOptions {
  /** Store the records compressed with this codec, unless the topic's compression.type says otherwise. */
  compression?: Compression;
  /** Abort the produce, its retries and their waits (it then fails with ABORTED; records already sent may still commit). */
  signal?: AbortSignal;
  /**
   * Error codes that end the produce at once instead of being retried, e.g. ['NOT_ENOUGH_REPLICAS']
   * for a caller that would rather tell its user than wait for the in-sync set to grow back.
   */
  stopOn?: readonly string[];
}

/** Where a request goes: the leader (writes), any broker (reads), or one named broker. */
type Target = { kind: 'leader' } | { kind: 'any' } | { kind: 'url'; url: string };

/** After this many NOT_LEADER redirects in a row, back off instead of following at once. */
const IMMEDIATE_REDIRECTS = 2;

/**
 * The typed client of the broker HTTP API. Writes go to the leader, found through
 * GET /metadata/leader on the seeds and cached; a 421 NOT_LEADER is followed to the leader it
 * names at once; lost connections, timeouts and 503s back off (retry.ts) and rediscover.
 * Retried produces are at-least-once: a produce whose answer was lost may have been committed.
 */
export class YakClient {
  private readonly seeds: string[];
  private readonly timeoutMs: number;
  private readonly policy: RetryPolicy;
  private readonly discovery: LeaderDiscovery;
  private leaderUrl: string | null = null;
  private nextSeed = 0;
  private readonly connection: Connection;

  constructor(options: YakClientOptions) {
    if (!Array.isArray(options.brokers) || options.brokers.length === 0) throw new TypeError('YakClient needs at least one broker URL');
    this.seeds = options.brokers.map(normaliseUrl);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    if (!(this.timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive; got ${this.timeoutMs}`);
    this.policy = retryPolicy(options.retry);
    if (options.token !== undefined && (typeof options.token !== 'string' || options.token.length === 0 || /[\r\n]/.test(options.token))) {
      throw new TypeError('token must be a non-empty string of one line (<principal>:<secret>)');
    }
    this.connection = {
      ...(options.token !== undefined ? { token: options.token } : {}),
      ...(usesTls(options) ? { fetch: tlsFetch(pickTls(options)) } : {}),
    };
    this.discovery = new LeaderDiscovery(this.seeds, this.timeoutMs, normaliseUrl, this.connection);
  }

  /** The leader URL this client currently believes in, if any. */
  get knownLeader(): string | null {
    return this.leaderUrl;
  }

  /** `options.compression`: how to store the record when the topic leaves it to the producer (default none). */
  produce(topic: string, record: ProduceInput, options: ProduceOptions = {}): Promise<ProduceAnswer> {
    return this.call({ kind: 'leader' }, { method: 'POST', path: '/produce', body: { topic, ...record, ...compressionField(options) }, ...produceCall(options) }, options.stopOn);
  }

  /** `options.compression`: how to store the batch when the topic leaves it to the producer (default none). */
  produceBatch(topic: string, records: ProduceInput[], options: ProduceOptions = {}): Promise<BatchAnswer> {
    return this.call({ kind: 'leader' }, { method: 'POST', path: '/produce/batch', body: { topic, records, ...compressionField(options) }, ...produceCall(options) }, options.stopOn);
  }

  consume<P = unknown>(topic: string, partition: number, offset: number, options: ConsumeOptions = {}): Promise<ConsumeAnswer<P>> {
    const query = new URLSearchParams({ topic, partition: String(partition), offset: String(offset) });
    if (options.max !== undefined) query.set('max', String(options.max));
    if (options.waitMs !== undefined) query.set('wait_ms', String(options.waitMs));
    const target: Target = options.broker ? { kind: 'url', url: normaliseUrl(options.broker) } : { kind: 'any' };
    return this.call(target, {
      method: 'GET',
      path: `/consume?${query}`,
      timeoutMs: this.timeoutMs + (options.waitMs ?? 0),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  topics(): Promise<TopicsAnswer> {
    return this.call({ kind: 'any' }, { method: 'GET', path: '/topics' });
  }

  createTopic(name: string, partitions: number, config?: TopicConfigValues): Promise<CreateTopicAnswer> {
    return this.call({ kind: 'leader' }, { method: 'POST', path: '/topics', body: config ? { name, partitions, config } : { name, partitions } });
  }

  topicConfig(name: string): Promise<TopicConfigAnswer> {
    return this.call({ kind: 'any' }, { method: 'GET', path: `/topics/${encodeURIComponent(name)}/config` });
  }

  /** Change a topic's config overrides (leader only; admin under --auth-file); a key set to null goes back to the broker default. */
  setTopicConfig(name: string, config: Partial<Record<keyof TopicConfigValues, number | null>>): Promise<TopicConfigAnswer> {
    return this.call({ kind: 'leader' }, { method: 'POST', path: `/topics/${encodeURIComponent(name)}/config`, body: { config } });
  }

  leader(): Promise<LeaderAnswer> {
    return this.call({ kind: 'any' }, { method: 'GET', path: '/metadata/leader' });
  }

  cluster(): Promise<ClusterAnswer> {
    return this.call({ kind: 'any' }, { method: 'GET', path: '/metadata/cluster' });
  }

  // ---- consumer groups (the coordinator is on the leader; docs/consumer-groups.md)

  groups(): Promise<GroupsAnswer> {
    return this.call({ kind: 'leader' }, { method: 'GET', path: '/groups' });
  }

  describeGroup(group: string): Promise<GroupAnswer> {
    return this.call({ kind: 'leader' }, { method: 'GET', path: groupPath(group) });
  }

  groupOffsets(group: string): Promise<GroupOffsetsAnswer> {
    return this.call({ kind: 'leader' }, { method: 'GET', path: groupPath(group, 'offsets') });
  }

  /** Waits for the rebalance to complete: the request timeout is this client's plus the rebalance timeout. */
  joinGroup(group: string, input: JoinGroupInput, signal?: AbortSignal): Promise<JoinGroupAnswer> {
    const body = {
      topics: input.topics,
      ...(input.memberId ? { member_id: input.memberId } : {}),
      ...(input.clientId ? { client_id: input.clientId } : {}),
      ...(input.strategy ? { strategy: input.strategy } : {}),
      ...(input.sessionTimeoutMs !== undefined ? { session_timeout_ms: input.sessionTimeoutMs } : {}),
      ...(input.rebalanceTimeoutMs !== undefined ? { rebalance_timeout_ms: input.rebalanceTimeoutMs } : {}),
    };
    const waitMs = input.rebalanceTimeoutMs ?? input.sessionTimeoutMs ?? 10_000;
    return this.call({ kind: 'leader' }, { method: 'POST', path: groupPath(group, 'join'), body, timeoutMs: this.timeoutMs + waitMs, ...(signal ? { signal } : {}) });
  }

  heartbeat(group: string, memberId: string, generation: number): Promise<unknown> {
    return this.call({ kind: 'leader' }, { method: 'POST', path: groupPath(group, 'heartbeat'), body: { member_id: memberId, generation } });
  }

  /** As a member (memberId and generation), or from outside the group (neither) while it has no members. */
  commitOffsets(group: string, offsets: (TopicPartitionRef & { offset: number; metadata?: string })[], member?: { memberId: string; generation: number }): Promise<CommitOffsetsAnswer> {
    const body = { offsets, ...(member ? { member_id: member.memberId, generation: member.generation } : {}) };
    return this.call({ kind: 'leader' }, { method: 'POST', path: groupPath(group, 'commit'), body });
  }

  leaveGroup(group: string, memberId: string): Promise<unknown> {
    return this.call({ kind: 'leader' }, { method: 'POST', path: groupPath(group, 'leave'), body: { member_id: memberId } });
  }

  /** Only while the group has no members (NON_EMPTY_GROUP otherwise); admin under --auth-file. */
  resetOffsets(group: string, input: ResetOffsetsInput): Promise<ResetOffsetsAnswer> {
    const { dryRun, ...rest } = input;
    return this.call({ kind: 'leader' }, { method: 'POST', path: groupPath(group, 'reset'), body: { ...rest, ...(dryRun ? { dry_run: true } : {}) } });
  }

  /** One try, no retries: a probe should report a dead broker, not wait for it. */
  health(url: string): Promise<HealthAnswer> {
    return this.send(normaliseUrl(url), { method: 'GET', path: '/health' });
  }

  /** One try, no retries (see health). */
  metrics(url: string): Promise<MetricsAnswer> {
    return this.send(normaliseUrl(url), { method: 'GET', path: '/metrics' });
  }

  /** A request under the retry policy, with leader discovery and NOT_LEADER redirects. */
  private async call<T>(target: Target, call: Call, stopOn: readonly string[] = []): Promise<T> {
    const what = `${call.method} ${call.path.split('?')[0]}`;
    const attempts: Attempt[] = [];
    const started = Date.now();
    let redirectsInARow = 0;
    let base = '';
    const decide = (err: unknown): RetryDecision => {
      if (!(err instanceof YakClientError)) return 'stop';
      if (stopOn.includes(err.code)) return 'stop';
      if (err.code === 'NOT_LEADER' && target.kind !== 'url') {
        // A broker naming itself (or nothing) is mid-election: back off and ask again.
        const named = leaderUrlIn(err);
        // A broker that knows no leader (cut from Redis, mid-election) names the brokers it knows
        // of: the next discovery asks them beside the seeds, so a client seeded with it alone is not stuck.
        if (!named) this.discovery.learn(err.body?.brokers);
        this.leaderUrl = named !== base ? named : null;
        if (this.leaderUrl && ++redirectsInARow <= IMMEDIATE_REDIRECTS) return 'retry-now';
        return 'retry';
      }
      redirectsInARow = 0;
      // Over a quota: the broker is fine and said when to come back; no need to look elsewhere.
      if (err instanceof YakThrottledError) return { afterMs: err.retryAfterMs };
      if (!err.retriable) return 'stop';
      if (base === this.leaderUrl) this.leaderUrl = null;
      this.nextSeed++;
      return 'retry';
    };
    try {
      return await withRetry(
        this.policy,
        async () => {
          base = '';
          base = await this.resolve(target, attempts, call.signal);
          try {
            return await this.send<T>(base, call);
          } catch (err) {
            if (err instanceof YakClientError) attempts.push({ url: base + call.path.split('?')[0], outcome: outcome(err) });
            throw err;
          }
        },
        {
          decide,
          exhausted: (last, tries) =>
            last instanceof YakClientError ? new YakRetriesExhaustedError(what, tries, attempts, last, Date.now() - started) : (last as Error),
          ...(call.signal ? { signal: call.signal } : {}),
        },
      );
    } catch (err) {
      if (call.signal?.aborted && !(err instanceof YakClientError)) {
        throw new YakClientError('ABORTED', 0, `${what} was aborted by the caller`, false, undefined, { cause: err });
      }
      throw err;
    }
  }

  /** The broker URL for this try: a named broker, the known leader, else discovery (writes) or the next seed (reads). */
  private async resolve(target: Target, attempts: Attempt[], signal?: AbortSignal): Promise<string> {
    if (target.kind === 'url') return target.url;
    if (this.leaderUrl) return this.leaderUrl;
    if (target.kind === 'any') return this.seeds[this.nextSeed % this.seeds.length]!;
    const found = await this.discovery.find(signal);
    attempts.push(...found.attempts);
    if (!found.url && found.refusal) throw found.refusal;
    if (!found.url) throw new YakClientError('NO_LEADER', 0, `no seed named a reachable leader (asked ${this.seeds.join(', ')})`, true);
    this.leaderUrl = found.url;
    return found.url;
  }

  private send<T>(base: string, call: Call): Promise<T> {
    return exchange<T>(base, call, this.timeoutMs, this.connection);
  }
}

function groupPath(group: string, action?: string): string {
  return `/groups/${encodeURIComponent(group)}${action ? `/${action}` : ''}`;
}

function produceCall(options: ProduceOptions): { signal?: AbortSignal } {
  return options.signal ? { signal: options.signal } : {};
}

function leaderUrlIn(err: YakClientError): string | null {
  const url = err.body?.leader?.url;
  if (typeof url !== 'string') return null;
  try {
    return normaliseUrl(url);
  } catch {
    return null;
  }
}

function normaliseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TypeError('not http(s)');
  } catch {
    throw new TypeError(`'${url}' is not a broker URL (expected http://host:port)`);
  }
  return url.replace(/\/+$/, '');
}

function usesTls(tls: ClientTlsOptions): boolean {
  return tls.ca !== undefined || tls.cert !== undefined || tls.key !== undefined;
}

function pickTls(tls: ClientTlsOptions): ClientTlsOptions {
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new TypeError('cert and key go together: give both for mutual TLS, or neither');
  return { ...(tls.ca !== undefined ? { ca: tls.ca } : {}), ...(tls.cert !== undefined ? { cert: tls.cert } : {}), ...(tls.key !== undefined ? { key: tls.key } : {}) };
}

/** Options of produce() and produceBatch(). */
function compressionField(options: ProduceOptions): { compression?: Compression } {
  return options.compression === undefined ? {} : { compression: options.compression };
}
