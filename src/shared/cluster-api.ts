/**
 * The one contract between the renderer and the Node side of the desktop app.
 *
 * Implemented twice with the same semantics: by the Electron IPC bridge (src/preload exposes it as
 * `window.yak`) and by the HTTP bridge of the web host (src/renderer/bridge/http.ts). The renderer
 * imports only this interface. Every method validates its arguments on the Node side and rejects
 * with an Error whose message says what was wrong.
 */

export type ProcessKind = 'redis' | 'broker';
export type ProcessState = 'starting' | 'running' | 'paused' | 'stopping' | 'stopped' | 'exited' | 'crashed';
export type BrokerAction = 'start' | 'stop' | 'kill' | 'pause' | 'resume' | 'restart';

export interface ProcessInfo {
  /** 'redis' or the broker id, e.g. 'broker-1'. */
  name: string;
  kind: ProcessKind;
  pid: number | null;
  state: ProcessState;
  port: number | null;
  exitCode: number | null;
  signal: string | null;
  startedAt: number | null;
  restarts: number;
}

export interface RedisInfo {
  mode: 'embedded' | 'external';
  url: string | null;
  reachable: boolean;
  process: ProcessInfo | null;
  /** Set when no redis-server could be found: what to install, or how to give an external URL. */
  problem: string | null;
}

export interface ReplicaPartitionState {
  brokerId: string;
  logEndOffset: number;
  highWatermark: number;
  /** First offset the replica still holds (records below were deleted by retention); 0 from brokers without retention. */
  logStartOffset?: number;
  /**
   * True when this broker did not answer /topics in the latest poll (stopped, killed, paused,
   * partitioned): the numbers are the last it reported, at `seenAt`, not what its log holds now.
   */
  stale?: boolean;
  /** When this broker last answered /topics (supervisor clock). */
  seenAt?: number;
}

export interface PartitionSnapshot {
  partition: number;
  /** The leader's high-water mark (committed boundary). */
  highWatermark: number;
  /** The leader's log start offset: consumes below it answer 416 (retention deleted them). */
  logStartOffset?: number;
  /** True when the high-water mark above comes from no broker that answered the latest poll (last seen, not current). */
  stale?: boolean;
  replicas: ReplicaPartitionState[];
}

/** Kafka-named per-topic settings the brokers keep (GET/POST /topics/{name}/config). */
export type TopicConfigKey = 'retention.ms' | 'retention.bytes' | 'min.insync.replicas';
export type TopicConfigValues = Partial<Record<TopicConfigKey, number>>;
/** A change: a number sets the key, null takes the broker's default back. */
export type TopicConfigChange = Partial<Record<TopicConfigKey, number | null>>;

export interface TopicConfigView {
  name: string;
  /** What applies: the topic's overrides over the brokers' defaults. */
  config: TopicConfigValues;
  /** The topic's own keys. */
  overrides: TopicConfigValues;
}

export interface TopicSnapshot {
  name: string;
  partitions: PartitionSnapshot[];
  /** The effective config as the leader (else any broker) last reported it in /topics; absent from older brokers. */
  config?: TopicConfigValues;
}

/** A consumer group as the leader's coordinator lists it (GET /groups). */
export interface GroupSnapshot {
  group: string;
  /** Empty, PreparingRebalance, CompletingRebalance or Stable (Kafka's names). */
  state: string;
  generation: number;
  members: number;
  /** Sum over its partitions of high-water mark − committed offset. */
  lag: number;
}

/** Every group's lag at one moment (a point of the lag chart). */
export interface GroupLagPoint {
  at: number;
  lag: Record<string, number>;
}

export interface BrokerSnapshot {
  id: string;
  url: string;
  port: number;
  /** Its Kafka listener's port on 127.0.0.1 (0 before it was first started). */
  kafkaPort: number;
  process: ProcessInfo;
  /** Answered its /health in the last poll. */
  reachable: boolean;
  role: 'leader' | 'follower' | null;
  epoch: number | null;
  /** Lease time left as the leader measures it; null on followers. */
  leaseMsLeft: number | null;
  /**
   * When (supervisor clock, like `at` of the snapshot) leaseMsLeft was asked for: it was measured
   * after this, so it counts down from here. null with leaseMsLeft null; absent from older hosts.
   */
  leaseMeasuredAt?: number | null;
  /**
   * For a broker whose last answer claimed the lead and that has not answered since (killed,
   * paused, unreachable — not stopped, which releases the lease) while no other broker claims it:
   * the lease_ms_left of that last /health answer, when it arrived (supervisor clock) and its epoch.
   * Nobody can see it renew, so the lease runs out at `at + msLeft`. null otherwise.
   */
  lastLease: { msLeft: number; at: number; epoch: number } | null;
  /** Member of the in-sync replica set, as last reported by a leader that reached Redis. */
  inSync: boolean;
  /**
   * False when no such leader has reported this broker at all since the cluster (re)started: then
   * `inSync` false means "not known", not "out of the set". Absent from older hosts.
   */
  inSyncKnown?: boolean;
  /**
   * True when no such leader answered the latest poll (no leader, Redis down, the leader silent):
   * inSync and alive are the last known, not current. Absent from older hosts.
   */
  membershipStale?: boolean;
  /** Registered as alive in Redis, as last reported by a leader that reached Redis. */
  alive: boolean;
  /**
   * The settings its process was started with (null before its first start). `settings` of the
   * snapshot are the saved ones, which apply only on the next start: a lease meter drawn against
   * them measured a 2 s lease on a 10 s scale. Absent from older hosts.
   */
  runsWith?: BrokerRunSettings | null;
}

/** What a broker process was started with (its flags): what it really does until its next start. */
export type BrokerRunSettings = Pick<ClusterSettings, 'leaseSeconds' | 'renewSeconds' | 'partitions' | 'minInsync'>;

export interface RatePoint {
  at: number;
  producedPerSec: number;
  consumedPerSec: number;
}

export interface ClusterSettings {
  brokerCount: number;
  leaseSeconds: number;
  renewSeconds: number;
  partitions: number;
  minInsync: number;
  /** null: the supervisor runs its own redis-server. */
  externalRedisUrl: string | null;
}

export interface ClusterSnapshot {
  at: number;
  running: boolean;
  /** Why no write can succeed right now (no broker claims the leader lease), or null. */
  writesBlocked: string | null;
  /** The saved settings: they apply when the cluster or a broker next starts (see BrokerSnapshot.runsWith for what runs). */
  settings: ClusterSettings;
  redis: RedisInfo;
  /** The broker whose own /health claims the leader role (highest epoch); null when none does. */
  leader: { id: string; url: string } | null;
  epoch: number;
  brokers: BrokerSnapshot[];
  topics: TopicSnapshot[];
  /** Consumer groups with their lag, as the leader last listed them (absent: not known yet). */
  groups?: GroupSnapshot[];
  /** True when no leader answered GET /groups in the latest poll: `groups` is the last list, not current. */
  groupsStale?: boolean;
  /** Recent lag of every group, oldest first (about two minutes). */
  groupLag?: GroupLagPoint[];
  /** Recent rate history, oldest first (about two minutes). */
  rates: RatePoint[];
}

export type ClusterEventKind =
  | 'process-started'
  | 'process-exited'
  | 'process-signal'
  | 'leader-elected'
  | 'lease-lost'
  | 'isr-shrink'
  | 'isr-expand'
  | 'failover-step'
  | 'info'
  | 'error';

export interface ClusterEvent {
  seq: number;
  at: number;
  kind: ClusterEventKind;
  message: string;
  brokerId?: string;
  epoch?: number;
}

export type FailoverStepName =
  | 'leader-lost'
  | 'lease-expired'
  | 'new-leader'
  | 'first-commit'
  | 'old-leader-restarted'
  | 'caught-up';

export interface FailoverStep {
  step: FailoverStepName;
  at: number;
  /** Milliseconds since the failover started. */
  sinceStartMs: number;
  detail: string;
  /** How `at` was found, for a step not simply timed by when the supervisor saw it (lease-expired). Absent from older hosts. */
  timing?: FailoverStepTiming;
}

/**
 * Where a step's time comes from. lease-expired: 'redis-pttl' — the lease key's remaining time read
 * from Redis right after the take-down (Redis decides the expiry; `at` is exact within `withinMs`,
 * the read's round trip); 'leader-health' — the old leader's last /health lease_ms_left before it
 * (an estimate: the lease ended no earlier, a later renewal moved it on); 'first-seen' — the first
 * poll that found the lease gone (an estimate: it ended no later).
 */
export interface FailoverStepTiming {
  source: 'redis-pttl' | 'leader-health' | 'first-seen';
  /** True when `at` is only a bound of the moment: the panel says so. */
  estimate: boolean;
  /** A measure (not an estimate): the moment lies in [at, at + withinMs]. */
  withinMs?: number;
  /** One sentence for the panel: how it was measured. */
  how: string;
}

export interface FailoverOptions {
  /** kill = SIGKILL, pause = SIGSTOP (resumed with SIGCONT when the old leader is brought back). */
  mode: 'kill' | 'pause';
  /** Bring the old leader back after the new one commits, and wait for it to catch up. */
  restartOldLeader: boolean;
  /** Run a steady trickle of records during the failover so the gap is visible. */
  demoProducer: boolean;
}

export interface FailoverTimeline {
  id: number;
  options: FailoverOptions;
  startedAt: number;
  oldLeader: { id: string; epoch: number };
  newLeader: { id: string; epoch: number } | null;
  steps: FailoverStep[];
  /** Time without a committed record (leader lost -> first commit), once known. */
  gapMs: number | null;
  state: 'running' | 'done' | 'failed';
  error: string | null;
}

export interface ProduceRequest {
  topic: string;
  key?: string | null;
  /** Any JSON value. */
  payload: unknown;
  partition?: number;
  headers?: Record<string, string>;
}

/** Options of a produce call. */
export interface ProduceCallOptions {
  /**
   * A name the caller picks (letters, digits, - and _), so that cancelCalls(cancelId) can abort the
   * call and the client's retries at once. Records already sent may still commit.
   */
  cancelId?: string;
}

export interface ProduceResult {
  topic: string;
  partition: number;
  offset: number;
}

export interface BatchRecord {
  key?: string | null;
  payload: unknown;
  partition?: number;
  headers?: Record<string, string>;
}

export interface BatchResult {
  topic: string;
  results: { partition: number; offset: number }[];
}

export interface ConsumeRequest {
  topic: string;
  partition: number;
  /** A number, or 'earliest' (0) / 'latest' (the high-water mark). */
  offset: number | 'earliest' | 'latest';
  max?: number;
  /** Long-poll up to this long (at most 30 000) for new committed records. */
  waitMs?: number;
}

export interface ConsumedRecord {
  offset: number;
  key: string | null;
  payload: unknown;
  timestamp: number;
  headers: Record<string, string>;
}

export interface ConsumeResult {
  topic: string;
  partition: number;
  records: ConsumedRecord[];
  nextOffset: number;
  highWatermark: number;
}

/**
 * What one broker itself answered to one POST /produce, sent to it alone: no leader discovery, no
 * redirect, no retry. The lessons use it to show what a particular broker (a frozen old leader, a
 * follower) says, epochs included, instead of what a client ends up with after retrying.
 */
export interface BrokerProduceAnswer {
  brokerId: string;
  /** Supervisor clock: when the request left and when its answer (or the failure) came back. */
  sentAt: number;
  answeredAt: number;
  /** The HTTP status; 0 when no answer came (refused connection, timeout). */
  status: number;
  /** Set on a 2xx: the record was committed there. */
  result: ProduceResult | null;
  /** Set otherwise: the broker's error code and message, or UNREACHABLE / TIMEOUT from the supervisor. */
  error: {
    code: string;
    message: string;
    /** The epoch the broker reported with its refusal (a NOT_LEADER names the one it knows), if any. */
    epoch: number | null;
    /** The leader it pointed to, if any. */
    leader: { id: string; url: string } | null;
  } | null;
}

export interface TopicSummary {
  name: string;
  partitions: { partition: number; highWatermark: number }[];
}

/** How the developer's own Kafka clients connect to the desktop cluster (the Dashboard shows it). */
export interface KafkaAccess {
  /** The Kafka listener of every broker whose process runs, `127.0.0.1:PORT,...` (empty while none runs). */
  bootstrap: string;
  /** Started brokers left out of `bootstrap` because their process does not run now (stopped, crashed, paused…). */
  leftOut: { id: string; address: string; state: ProcessState }[];
  securityProtocol: 'SASL_PLAINTEXT';
  mechanism: 'PLAIN';
  /** A principal of its own (produce and consume on every topic, no admin), not the app's. */
  username: string;
  password: string;
  /** A ready kcat command line listing the topics (kcat -L) with these settings. */
  kcat: string;
}

// --- consumer groups run by the app (issue 14)

export type GroupStrategyName = 'range' | 'roundrobin' | 'sticky';

/** Start members of a group in the app's main process: real GroupConsumers over the cluster's credential. */
export interface GroupMembersRequest {
  group: string;
  topic: string;
  /** How many members to add (1–8). */
  count: number;
  /** How the coordinator assigns partitions. Default 'range' (the broker's default). */
  strategy?: GroupStrategyName;
  /** No heartbeat for this long and the coordinator removes the member (500–60 000 ms). Default 6000. */
  sessionTimeoutMs?: number;
  /** Time spent "processing" each record (0–1000 ms), so lag can be watched falling. Default 10. */
  processDelayMs?: number;
  /** Where a partition with no committed offset starts: 'earliest' (default) or 'latest' (its high-water mark). */
  startFrom?: 'earliest' | 'latest';
}

/** stop = graceful close (commit, leave); freeze = stop heartbeating and processing (its session expires); resume = thaw a frozen one. */
export type GroupMemberAction = 'stop' | 'freeze' | 'resume';

/** One member the app runs, as the app itself knows it (what it processed); where it stands in the group comes from the leader. */
export interface AppGroupMember {
  /** The app's name for it, also sent as the member's client id (so the leader's describe names it). */
  name: string;
  group: string;
  topic: string;
  /** The id the coordinator gave it at its last join (null before the first). */
  memberId: string | null;
  /** The generation of its last join, as the member was told (-1 before the first). */
  generation: number;
  state: 'joining' | 'running' | 'frozen' | 'stopped' | 'failed';
  /** Records handed to its handler, in all. */
  processed: number;
  /** Records processed per partition ("<partition>": count). */
  processedByPartition: Record<string, number>;
  startedAt: number;
  error: string | null;
}

/** GET /groups/{group} on the leader, camelCased: the truth about who holds what. */
export interface GroupBrokerView {
  state: string;
  protocol: string;
  generation: number;
  /** The member the coordinator made the group's leader. */
  leader: string | null;
  members: { memberId: string; clientId: string; sessionTimeoutMs: number; partitions: { topic: string; partition: number }[] }[];
  offsets: { topic: string; partition: number; committedOffset: number | null; highWatermark: number; lag: number | null; memberId: string | null }[];
  lag: number;
}

export interface GroupDescription {
  group: string;
  /** When the leader answered (supervisor clock). */
  at: number;
  /** The leader's answer; null when the coordinator knows no such group (404 UNKNOWN_GROUP). */
  broker: GroupBrokerView | null;
  /** The app's own members of this group (stopped ones included, newest last). */
  members: AppGroupMember[];
}

export type Unsubscribe = () => void;

export interface ClusterApi {
  // --- the cluster as a whole
  getSnapshot(): Promise<ClusterSnapshot>;
  getSettings(): Promise<ClusterSettings>;
  /** Applies on the next start (or restart) of the cluster. */
  updateSettings(patch: Partial<ClusterSettings>): Promise<ClusterSettings>;
  startCluster(): Promise<void>;
  stopCluster(): Promise<void>;
  /** Stops the cluster and deletes its data folders (brokers' logs and Redis data). */
  wipeData(): Promise<void>;

  // --- processes
  brokerAction(brokerId: string, action: BrokerAction): Promise<void>;
  addBroker(): Promise<string>;
  removeBroker(brokerId: string): Promise<void>;
  /** Last lines (up to 500) of a process's stdout/stderr; name is 'redis' or a broker id. */
  processOutput(name: string): Promise<string[]>;

  // --- failover
  simulateFailover(options: FailoverOptions): Promise<FailoverTimeline>;
  /** The latest failover timeline, or null if none ran yet. */
  getFailover(): Promise<FailoverTimeline | null>;

  // --- data, through broker-runtime's client (leader discovery and retries included)
  produce(request: ProduceRequest, options?: ProduceCallOptions): Promise<ProduceResult>;
  produceBatch(topic: string, records: BatchRecord[], options?: ProduceCallOptions): Promise<BatchResult>;
  /** Aborts the produce calls made with this cancelId that are still running; resolves to how many. */
  cancelCalls(cancelId: string): Promise<number>;
  consume(request: ConsumeRequest): Promise<ConsumeResult>;
  listTopics(): Promise<TopicSummary[]>;
  createTopic(name: string, partitions: number): Promise<void>;
  /** Changes a topic's config on the leader (live: no restart); resolves once every in-sync replica has it. */
  setTopicConfig(name: string, change: TopicConfigChange): Promise<TopicConfigView>;
  /**
   * POST /produce to one broker only, once per request (1–100, all sent at once, each on its own
   * connection), answered in request order as that broker answered (refusals included, never
   * thrown); timeoutMs (100–60 000, default 10 000) bounds each wait, e.g. on a paused broker.
   * One call for many requests, so writes left waiting on a frozen broker hold one browser
   * connection of the web bridge, not one each.
   */
  produceOnBroker(brokerId: string, requests: ProduceRequest[], timeoutMs?: number): Promise<BrokerProduceAnswer[]>;

  // --- consumer groups run by the app (members live in the main process, not in the page)
  /** Starts `count` members of the group; resolves with their names (they join in the background). */
  startGroupMembers(request: GroupMembersRequest): Promise<string[]>;
  /** Stops, freezes or resumes one member by its name. */
  groupMemberAction(name: string, action: GroupMemberAction): Promise<void>;
  /** Stops every member the app runs in this group (gracefully: commit, leave); resolves to how many. */
  stopGroupMembers(group: string): Promise<number>;
  /** The leader's GET /groups/{group} with the app's own members of the group. */
  describeGroup(group: string): Promise<GroupDescription>;

  // --- push streams
  onSnapshot(listener: (snapshot: ClusterSnapshot) => void): Unsubscribe;
  onEvent(listener: (event: ClusterEvent) => void): Unsubscribe;
  /** Recent events, oldest first (for a renderer that starts late). */
  recentEvents(): Promise<ClusterEvent[]>;
  /** Bootstrap servers and SASL credentials for Kafka clients (kcat, KafkaJS…); rejects before the first start. */
  kafkaAccess(): Promise<KafkaAccess>;
}

/** The method names that are request/response calls (every host must serve each one). */
export const CLUSTER_API_CALLS = [
  'getSnapshot',
  'getSettings',
  'updateSettings',
  'startCluster',
  'stopCluster',
  'wipeData',
  'brokerAction',
  'addBroker',
  'removeBroker',
  'processOutput',
  'simulateFailover',
  'getFailover',
  'produce',
  'produceBatch',
  'cancelCalls',
  'consume',
  'listTopics',
  'createTopic',
  'setTopicConfig',
  'produceOnBroker',
  'startGroupMembers',
  'groupMemberAction',
  'stopGroupMembers',
  'describeGroup',
  'recentEvents',
  'kafkaAccess',
] as const satisfies readonly (keyof ClusterApi)[];

export type ClusterApiCall = (typeof CLUSTER_API_CALLS)[number];
