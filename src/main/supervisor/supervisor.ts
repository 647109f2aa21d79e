import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type {
  BatchRecord,
  BatchResult,
  BrokerAction,
  BrokerProduceAnswer,
  ClusterApi,
  ClusterEvent,
  KafkaAccess,
  ClusterSettings,
  ClusterSnapshot,
  ConsumeRequest,
  ConsumeResult,
  FailoverOptions,
  FailoverTimeline,
  ProduceRequest,
  ProduceResult,
  TopicSummary,
  GroupDescription,
  GroupMemberAction,
  GroupMembersRequest,
  TopicConfigChange,
  TopicConfigView,
  ProduceCallOptions,
} from '../../shared/cluster-api.js';
import { invalidState, unknownProcess } from '../api/errors.js';
import { resolveBrokerEntry } from './processes/broker-entry.js';
import { ClusterMonitor } from './watch/cluster-monitor.js';
import { ClusterProcesses } from './processes/cluster-processes.js';
import { portMovedMessage } from './processes/messages.js';
import { ensureClusterCredential, type ClusterCredential } from './access/cluster-credential.js';
import { kafkaAccessOf } from './access/kafka-access.js';
import { DataClientPool, type DataClient } from './clients/data-client.js';
import { DemoClient } from './failover/demo-client.js';
import { produceOnOneBroker } from './clients/direct-produce.js';
import { EventLog } from './event-log.js';
import { FailoverControl } from './failover/control.js';
import { GroupMembers } from './clients/group-members.js';
import type { ExitInfo, ManagedProcess } from './processes/managed-process.js';
import { exitMessage, startedMessage } from './processes/messages.js';
import { RedisControl } from './redis/control.js';
import { Serial } from './serial.js';
import { loadSettings, mergeSettings, saveSettings } from './settings.js';
import { buildSnapshot } from './watch/snapshot.js';
import { wipeDataFolders, wipeExternalRedis } from './processes/wipe.js';

export interface SupervisorOptions {
  /** Holds settings.json, brokers/<id>/ and redis/. */
  dataDir: string;
  /** The built broker launcher; found next to the app's files when not given. */
  brokerEntry?: string;
  /** Runs the brokers: Electron's binary (in Node mode) or Node. */
  execPath?: string;
  /** Where REDIS_SERVER_BIN and PATH are read (tests point it at nothing). */
  env?: NodeJS.ProcessEnv;
  pollIntervalMs?: number;
  stopGraceMs?: number;
  /** Terminal output: every event as a line. */
  log?: (line: string) => void;
  dataClientFactory?: (urls: string[], token: string | null) => DataClient;
}

const MAX_BROKERS = 7;

/**
 * The local cluster's owner: Redis (embedded or external) and N brokers as child processes,
 * watched through their HTTP API, driven through their HTTP API and signals — the way an operator
 * would. Implements the ClusterApi for both hosts. Imports nothing from Electron.
 */
export class Supervisor implements ClusterApi {
  private settings: ClusterSettings;
  private readonly events = new EventLog();
  private readonly procs: ClusterProcesses;
  private readonly monitor: ClusterMonitor;
  private readonly failover: FailoverControl;
  private readonly clients: DataClientPool;
  /** Produce calls that cancelCalls can abort, by the cancelId their caller gave. */
  private readonly runningCalls = new Map<string, Set<AbortController>>();
  private readonly demoClient: DemoClient;
  private readonly groupMembers: GroupMembers;
  private readonly serial = new Serial();
  private readonly snapshotListeners = new Set<(s: ClusterSnapshot) => void>();
  private readonly redis: RedisControl;
  private readonly brokerEntry: string;
  private running = false;
  private closed = false;
  private redisUrl: string | null = null;
  /** Made (or read back) at the first start: the brokers' auth file and the token of our own calls. */
  private credential: ClusterCredential | null = null;
  private ownProduced = 0;
  private ownConsumed = 0;
  /** When each broker was last started again because its port was taken (moveOffTakenPort). */
  private readonly portRetries = new Map<string, number[]>();

  private constructor(
    private readonly options: SupervisorOptions,
    settings: ClusterSettings,
  ) {
    this.settings = settings;
    this.brokerEntry = options.brokerEntry ?? resolveBrokerEntry();
    this.clients = new DataClientPool(options.dataClientFactory);
    this.demoClient = new DemoClient({
      targets: () =>
        [...this.procs.brokers.values()].filter((b) => b.url && b.process.alive && b.process.currentState !== 'paused').map((b) => ({ id: b.id, url: b.url })),
      token: () => this.credential?.token ?? null,
    });
    this.groupMembers = new GroupMembers({
      brokerUrls: () => [...this.procs.brokers.values()].filter((b) => b.url).map((b) => b.url),
      token: () => this.credential?.token ?? null,
      running: () => this.running,
      info: (message) => this.events.emit('info', message),
      onConsumed: (records) => {
        this.ownConsumed += records;
      },
    });
    this.procs = new ClusterProcesses({
      dataDir: options.dataDir,
      brokerEntry: this.brokerEntry,
      execPath: options.execPath ?? process.execPath,
      stopGraceMs: options.stopGraceMs,
      hooks: { onStarted: (info) => this.onProcessStarted(info.name, info.pid, info.port), onExit: (exit) => this.onProcessExit(exit) },
    });
    this.redis = new RedisControl(options.env ?? process.env, this.procs, this.events);
    this.monitor = new ClusterMonitor({
      procs: this.procs,
      events: this.events,
      intervalMs: options.pollIntervalMs ?? 400,
      redisUrl: () => this.redisUrl,
      token: () => this.credential?.token ?? null,
      ownCounts: () => ({ produced: this.ownProduced, consumed: this.ownConsumed }),
      onObservation: (obs) => this.failover.onObservation(obs),
      publish: () => this.publish(),
    });
    this.failover = new FailoverControl({
      events: this.events,
      brokers: () => this.procs.brokers,
      processByName: (name) => this.processByName(name),
      restartBroker: (id) => this.serial.run(() => this.startProcess(id)),
      running: () => this.running,
      produce: async (request) => {
        const sentAt = Date.now();
        await this.demoClient.produce({ topic: request.topic, key: request.key ?? '', payload: request.payload });
        this.onAcked(1, sentAt);
      },
      poke: () => this.monitor.poke(),
      publish: () => this.publish(),
      redisUrl: () => this.redisUrl,
    });
    if (options.log) {
      const log = options.log;
      this.events.subscribe((e) => log(`[yak] ${new Date(e.at).toISOString().slice(11, 23)} ${e.kind}: ${e.message}`));
    }
    this.redis.refreshProblem(this.settings);
    // Shown (stopped) before the first start, so the UI lists the brokers it is about to run.
    this.syncBrokerList();
  }

  static async create(options: SupervisorOptions): Promise<Supervisor> {
    return new Supervisor(options, await loadSettings(join(options.dataDir, 'settings.json')));
  }

  // --- the cluster as a whole

  async getSnapshot(): Promise<ClusterSnapshot> {
    return this.snapshot();
  }

  async getSettings(): Promise<ClusterSettings> {
    return { ...this.settings };
  }

  async updateSettings(patch: Partial<ClusterSettings>): Promise<ClusterSettings> {
    return this.serial.run(async () => {
      this.settings = mergeSettings(this.settings, patch);
      await saveSettings(this.settingsFile(), this.settings);
      this.redis.refreshProblem(this.settings);
      this.events.emit('info', `settings changed (${Object.keys(patch).join(', ') || 'nothing'}); they apply when the cluster or a broker next starts`);
      this.publish();
      return { ...this.settings };
    });
  }

  startCluster(): Promise<void> {
    return this.serial.run(() => this.doStart());
  }

  stopCluster(): Promise<void> {
    return this.serial.run(() => this.doStop());
  }

  wipeData(): Promise<void> {
    return this.serial.run(async () => {
      await this.doStop();
      await wipeDataFolders(this.options.dataDir);
      let detail = 'broker logs and Redis data deleted';
      if (this.settings.externalRedisUrl) {
        try {
          detail = `broker logs deleted, ${await wipeExternalRedis(this.settings.externalRedisUrl)} key(s) deleted from the external Redis`;
        } catch (err) {
          detail = `broker logs deleted; the external Redis could not be cleaned (${message(err)})`;
        }
      }
      this.monitor.forgetAll();
      this.failover.forget();
      this.events.emit('info', `cluster data wiped: ${detail}`);
      this.publish();
    });
  }

  // --- processes

  brokerAction(name: string, action: BrokerAction): Promise<void> {
    return this.serial.run(async () => {
      const proc = this.processByName(name);
      if ((action === 'start' || action === 'restart') && !this.running) throw invalidState('the cluster is not running: start it first');
      if ((action === 'kill' || action === 'pause') && !proc.alive) throw invalidState(`${name} is not running`);
      if (action === 'resume' && proc.currentState !== 'paused') throw invalidState(`${name} is not paused`);
      switch (action) {
        case 'start':
          await this.startProcess(name);
          break;
        case 'stop':
          await proc.stop(this.procs.gracePeriodMs);
          break;
        case 'kill':
          await proc.kill();
          break;
        case 'pause':
          proc.pause();
          this.events.emit('process-signal', `${name} paused (SIGSTOP)`, brokerRef(name));
          break;
        case 'resume':
          proc.resume();
          this.events.emit('process-signal', `${name} resumed (SIGCONT)`, brokerRef(name));
          break;
        case 'restart':
          await proc.stop(this.procs.gracePeriodMs);
          await this.startProcess(name);
          break;
      }
      this.monitor.poke();
      this.publish();
    });
  }

  addBroker(): Promise<string> {
    return this.serial.run(async () => {
      if (this.procs.brokers.size >= MAX_BROKERS) throw invalidState(`the cluster already has ${MAX_BROKERS} brokers, the most it can have`);
      const id = this.freeBrokerId();
      this.procs.register(id);
      await this.saveBrokerCount();
      this.events.emit('info', `${id} added`, { brokerId: id });
      if (this.running && this.redisUrl) {
        await this.procs.assignPorts();
        await this.procs.startBroker(id, this.redisUrl, this.settings, this.credential?.authFile ?? null);
      }
      this.publish();
      return id;
    });
  }

  removeBroker(brokerId: string): Promise<void> {
    return this.serial.run(async () => {
      if (!this.procs.brokers.has(brokerId)) throw unknownProcess(brokerId);
      if (this.procs.brokers.size <= 1) throw invalidState('the cluster needs at least one broker');
      if (this.failover.active) throw invalidState('a failover simulation is running; remove brokers once it is over');
      await this.procs.removeBroker(brokerId);
      this.monitor.replicaTopics.delete(brokerId);
      this.monitor.replicaSeenAt.delete(brokerId);
      await this.saveBrokerCount();
      this.events.emit('info', `${brokerId} removed (its data folder is kept until the data is wiped)`, { brokerId });
      this.publish();
    });
  }

  async processOutput(name: string): Promise<string[]> {
    if (name === 'redis' && !this.procs.redis) {
      return this.settings.externalRedisUrl ? [`[yak] external Redis at ${this.settings.externalRedisUrl}: no process of ours`] : [];
    }
    return this.processByName(name).output.snapshot();
  }

  // --- failover

  simulateFailover(options: FailoverOptions): Promise<FailoverTimeline> {
    return this.serial.run(() => this.failover.start(options, this.monitor.lastObs));
  }

  async getFailover(): Promise<FailoverTimeline | null> {
    return this.failover.current();
  }

  // --- data

  produce(request: ProduceRequest, options: ProduceCallOptions = {}): Promise<ProduceResult> {
    return this.cancellable(options, (signal) => this.produceThroughClient(request, signal));
  }

  async produceBatch(topic: string, records: BatchRecord[], options: ProduceCallOptions = {}): Promise<BatchResult> {
    return this.cancellable(options, async (signal) => {
      const sentAt = Date.now();
      const result = await this.client().produceBatch(topic, records, signal);
      this.onAcked(result.results.length, sentAt);
      return result;
    });
  }

  async cancelCalls(cancelId: string): Promise<number> {
    const running = this.runningCalls.get(cancelId);
    if (!running) return 0;
    for (const c of running) c.abort(new Error(`cancelled (${cancelId})`));
    return running.size;
  }

  /** Runs a call that cancelCalls(options.cancelId) may abort (the client's request and its retries). */
  private async cancellable<T>(options: ProduceCallOptions, run: (signal?: AbortSignal) => Promise<T>): Promise<T> {
    const id = options.cancelId;
    if (id === undefined) return run();
    const controller = new AbortController();
    let set = this.runningCalls.get(id);
    if (!set) this.runningCalls.set(id, (set = new Set()));
    set.add(controller);
    try {
      return await run(controller.signal);
    } finally {
      set.delete(controller);
      if (set.size === 0) this.runningCalls.delete(id);
    }
  }

  async consume(request: ConsumeRequest): Promise<ConsumeResult> {
    const result = await this.client().consume(request);
    this.ownConsumed += result.records.length;
    return result;
  }

  listTopics(): Promise<TopicSummary[]> {
    return this.client().listTopics();
  }

  async createTopic(name: string, partitions: number): Promise<void> {
    await this.client().createTopic(name, partitions);
    this.events.emit('info', `topic ${name} created with ${partitions} partition(s)`);
    this.monitor.poke();
  }

  async setTopicConfig(name: string, change: TopicConfigChange): Promise<TopicConfigView> {
    const view = await this.client().setTopicConfig(name, change);
    this.events.emit('info', `topic ${name}: ${Object.entries(change).map(([k, v]) => `${k} ${v === null ? 'back to the broker default' : `set to ${v}`}`).join(', ')}`);
    this.monitor.poke();
    return view;
  }

  async produceOnBroker(brokerId: string, requests: ProduceRequest[], timeoutMs = 10_000): Promise<BrokerProduceAnswer[]> {
    const broker = this.procs.brokers.get(brokerId);
    if (!broker) throw unknownProcess(brokerId);
    if (!this.running || !broker.url) throw invalidState(`${brokerId} is not running: start the cluster first`);
    const target = { id: brokerId, url: broker.url };
    return Promise.all(requests.map((r) => produceOnOneBroker(target, r, timeoutMs, this.credential?.token ?? null)));
  }

  // --- consumer groups run by the app

  async startGroupMembers(request: GroupMembersRequest): Promise<string[]> {
    const names = this.groupMembers.start(request);
    this.monitor.poke();
    return names;
  }

  async groupMemberAction(name: string, action: GroupMemberAction): Promise<void> {
    await this.groupMembers.action(name, action);
    this.monitor.poke();
  }

  async stopGroupMembers(group: string): Promise<number> {
    const n = await this.groupMembers.stopGroup(group);
    this.monitor.poke();
    return n;
  }

  describeGroup(group: string): Promise<GroupDescription> {
    return this.groupMembers.describe(group);
  }

  // --- push streams

  onSnapshot(listener: (snapshot: ClusterSnapshot) => void): () => void {
    this.snapshotListeners.add(listener);
    return () => this.snapshotListeners.delete(listener);
  }

  onEvent(listener: (event: ClusterEvent) => void): () => void {
    return this.events.subscribe(listener);
  }

  async kafkaAccess(): Promise<KafkaAccess> {
    const credential = this.credential;
    if (!credential) throw invalidState('the cluster has not been started yet: start it to get Kafka bootstrap servers');
    return kafkaAccessOf([...this.procs.brokers.values()].sort((a, b) => byNumber(a.id, b.id)).map((b) => ({ id: b.id, kafkaPort: b.kafkaPort, state: b.process.currentState })), credential.kafkaClient);
  }

  async recentEvents(): Promise<ClusterEvent[]> {
    return this.events.list();
  }

  // --- quit

  /** Stops every child (SIGTERM, SIGKILL after the grace period) and refuses further work. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.serial.run(() => this.doStop());
  }

  /** Synchronous last resort (process 'exit'): SIGKILL whatever is still alive. */
  killAllNow(): void {
    this.failover.abort('the app is quitting');
    this.procs.killAllNow();
  }

  /** Pids of every child still alive (tests check that quit leaves none). */
  livePids(): number[] {
    return this.procs.livePids();
  }

  get dataDir(): string {
    return this.options.dataDir;
  }

  // --- internals

  private async doStart(): Promise<void> {
    if (this.closed) throw invalidState('the supervisor is shutting down');
    if (this.running) return;
    if (!existsSync(this.brokerEntry)) {
      throw invalidState(`the broker is not built (no ${this.brokerEntry}); run \`npm run build:broker\``);
    }
    this.credential ??= await ensureClusterCredential(this.options.dataDir);
    this.failover.forget('the cluster was restarted');
    const redis = await this.redis.start(this.settings).catch((err: unknown) => {
      this.publish(); // the snapshot now carries redis.problem
      throw err;
    });
    this.redisUrl = redis.url;
    this.monitor.redisReachable = redis.reachable;
    this.syncBrokerList();
    await this.procs.assignPorts();
    this.running = true;
    for (const id of this.procs.brokers.keys()) await this.procs.startBroker(id, this.redisUrl, this.settings, this.credential?.authFile ?? null);
    this.events.emit('info', `cluster started: ${this.procs.brokers.size} broker(s), Redis at ${this.redisUrl}`);
    this.monitor.start();
    this.publish();
  }

  private async doStop(): Promise<void> {
    const wasRunning = this.running;
    this.running = false;
    this.failover.abort('the cluster was stopped');
    // Members leave while the brokers can still hear it (their partitions are not held until a session expires).
    await this.groupMembers.stopAll();
    await this.monitor.stop();
    await this.procs.stopAll();
    this.procs.releasePorts();
    this.redis.stopped();
    this.redisUrl = null;
    if (wasRunning) this.events.emit('info', 'cluster stopped');
    this.publish();
  }

  private async startProcess(name: string): Promise<void> {
    if (!this.redisUrl) throw invalidState('the cluster is not running: start it first');
    if (name === 'redis') {
      await this.redis.restart();
      return;
    }
    const moves = await this.procs.startBroker(name, this.redisUrl, this.settings, this.credential?.authFile ?? null);
    const broker = this.procs.brokers.get(name);
    if (broker) for (const move of moves) this.events.emit('info', portMovedMessage(name, move, broker), brokerRef(name));
  }

  /** On start, the broker list follows settings.brokerCount: lowest free ids added, highest removed. */
  private syncBrokerList(): void {
    const ids = [...this.procs.brokers.keys()].sort(byNumber);
    while (ids.length > this.settings.brokerCount) {
      const id = ids.pop()!;
      this.procs.unregister(id);
      this.monitor.replicaTopics.delete(id);
      this.monitor.replicaSeenAt.delete(id);
    }
    while (this.procs.brokers.size < this.settings.brokerCount) this.procs.register(this.freeBrokerId());
  }

  private freeBrokerId(): string {
    for (let n = 1; ; n++) if (!this.procs.brokers.has(`broker-${n}`)) return `broker-${n}`;
  }

  private async saveBrokerCount(): Promise<void> {
    const brokerCount = this.procs.brokers.size;
    const minInsync = Math.min(this.settings.minInsync, brokerCount);
    if (minInsync !== this.settings.minInsync) {
      this.events.emit('info', `minInsync lowered to ${minInsync}: there are only ${brokerCount} broker(s)`);
    }
    this.settings = { ...this.settings, brokerCount, minInsync };
    await saveSettings(this.settingsFile(), this.settings);
  }

  private processByName(name: string): ManagedProcess {
    if (name === 'redis') {
      if (!this.procs.redis) throw unknownProcess(name);
      return this.procs.redis;
    }
    const broker = this.procs.brokers.get(name);
    if (!broker) throw unknownProcess(name);
    return broker.process;
  }

  private client(): DataClient {
    const urls = [...this.procs.brokers.values()].filter((b) => b.url).map((b) => b.url);
    const client = this.running ? this.clients.get(urls, this.credential?.token ?? null) : null;
    if (!client) throw invalidState('the cluster is not running: start it first');
    return client;
  }

  private async produceThroughClient(request: ProduceRequest, signal?: AbortSignal): Promise<ProduceResult> {
    const sentAt = Date.now();
    const result = await this.client().produce(request, signal);
    this.onAcked(1, sentAt);
    return result;
  }

  private onAcked(records: number, sentAt: number): void {
    this.ownProduced += records;
    this.failover.onAck(Date.now(), sentAt);
  }

  private snapshot(): ClusterSnapshot {
    return buildSnapshot({
      at: Date.now(),
      running: this.running,
      settings: this.settings,
      redis: this.redis.info(this.settings, this.monitor.redisReachable),
      brokers: [...this.procs.brokers.values()]
        .sort((a, b) => byNumber(a.id, b.id))
        .map((b) => ({ id: b.id, url: b.url, port: b.port, kafkaPort: b.kafkaPort, process: b.process.info(), runsWith: b.runsWith })),
      obs: this.monitor.lastObs,
      replicaTopics: this.monitor.replicaTopics,
      replicaSeenAt: this.monitor.replicaSeenAt,
      lastMembership: this.monitor.lastMembership,
      lastEpoch: this.monitor.lastEpoch,
      lastLease: this.monitor.lastLease,
      rates: this.monitor.rateHistory(),
      groups: this.monitor.lastGroups,
      groupLag: this.monitor.groupLag,
    });
  }

  private publish(): void {
    if (this.snapshotListeners.size === 0) return;
    const snap = this.snapshot();
    for (const listener of this.snapshotListeners) {
      try {
        listener(snap);
      } catch {
        // one broken subscriber must not starve the others
      }
    }
  }

  private onProcessStarted(name: string, pid: number | null, port: number | null): void {
    this.events.emit('process-started', startedMessage(name, pid, port), brokerRef(name));
    this.publish();
  }

  private onProcessExit(exit: ExitInfo): void {
    const proc = exit.name === 'redis' ? this.procs.redis : this.procs.brokers.get(exit.name)?.process;
    this.events.emit('process-exited', exitMessage(exit, proc?.output.snapshot() ?? []), brokerRef(exit.name));
    if (this.running) this.monitor.poke();
    this.publish();
    if (!exit.expected && exit.kind === 'broker' && this.running && saysPortInUse(proc?.output.snapshot() ?? [])) void this.moveOffTakenPort(exit.name);
  }

  /**
   * A broker exited because its port was taken between our check and its listen (startBroker
   * checks first, so this is the rare race): start it again, on a new port. At most a few times a
   * minute, so a machine that takes every port we pick shows the crashes instead of a loop.
   */
  private moveOffTakenPort(name: string): Promise<void> {
    return this.serial.run(async () => {
      const broker = this.procs.brokers.get(name);
      if (!this.running || !broker || broker.process.alive || !(await this.procs.brokerPortTaken(name))) return;
      const now = Date.now();
      const recent = (this.portRetries.get(name) ?? []).filter((at) => now - at < 60_000);
      if (recent.length >= 3) {
        this.events.emit('error', `${name} could not listen: the ports picked for it were taken ${recent.length} times within a minute; start it again once fewer ports are in use`, brokerRef(name));
        return;
      }
      this.portRetries.set(name, [...recent, now]);
      await this.startProcess(name);
      this.monitor.poke();
      this.publish();
    }).catch((err: unknown) => {
      this.events.emit('error', `${name} could not be started again: ${message(err)}`, brokerRef(name));
    });
  }

  private settingsFile(): string {
    return join(this.options.dataDir, 'settings.json');
  }
}

function brokerRef(name: string): { brokerId?: string } {
  return name === 'redis' ? {} : { brokerId: name };
}

function byNumber(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** The broker's own start-up line for EADDRINUSE (broker-runtime/src/cli.ts, exit 2). */
function saysPortInUse(output: readonly string[]): boolean {
  return output.slice(-5).some((line) => /port \d+ on \S+ is already in use/.test(line));
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
