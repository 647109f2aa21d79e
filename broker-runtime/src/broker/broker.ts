import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { BrokerConfig } from '../config/types.js';
import { BrokerState } from '../election/broker-state.js';
import { redisCommandTimeoutMs } from '../election/decisions.js';
import { Elector } from '../election/elector.js';
import { clusterKeys } from '../election/keys.js';
import { LeaseStore } from '../election/lease-store.js';
import { leadsShortAnyway, missingCommitted } from '../election/mirrored-commits.js';
import { uncleanRefusal } from '../election/unclean-refusal.js';
import { describeRedis, redisTarget } from '../redis/connect.js';
import { YakError, fromStorageError, invalidRequest, notCommitted, notEnoughReplicas, notLeader, offsetOutOfRange, timeout, topicExists, unknownPartition, unknownTopic, type LeaderRef, type NotLeaderHint } from '../errors/errors.js';
import { applyConfigChange, effectiveConfig, minInsyncReplicas, sameConfig, type TopicConfig, type TopicDefaults } from '../log/topic-config.js';
import { compressionFor } from '../log/compression/choice.js';
import type { SupportedCodec } from '../log/compression/codecs.js';
import { settleBounded } from '../log/bounded.js';
import { isStorageError } from '../log/storage-error.js';
import type { StorageHealth } from '../log/storage-health.js';
import { probeWrite } from '../log/storage-probe.js';
import type { LogManager, PartitionLog, RecordInput, TopicInfo } from '../log/types.js';
import type { Logger } from '../logger.js';
import type { BeforeAppend, KafkaAddress, KafkaBackend, KafkaClusterView } from '../kafka/backend.js';
import { RoundRobinByTopic, choosePartition } from '../routing/partitioner.js';
import { FollowerApply } from '../replication/follower-apply.js';
import { decodeFrameKey } from '../replication/frame-auth.js';
import { FrameKeyCache } from '../replication/frame-key-cache.js';
import { HighWatermarkWaiters } from '../replication/hwm-waiters.js';
import { LeaderReplication } from '../replication/leader-replication.js';
import { StreamTransport } from '../replication/stream-transport.js';
import { outboundTls } from '../config/tls.js';
import { systemTime } from '../ports/clock.js';
import { duplicateLine, liveDuplicate } from './duplicate-id.js';
import { driftLines, sharedSettings, type SharedSettings } from './settings-drift.js';
import { evictionWarning, parseInfo, type RedisServerFacts } from '../redis/server-check.js';
import { checkClusterIdentity, otherClusterLine, type IdentityVerdict } from './cluster-identity.js';
import { advertisedWarning, checkAdvertisedUrl, type AdvertisedCheck } from './advertised-check.js';
import { createBrokerMetrics, type BrokerMetrics } from './broker-metrics.js';
import { HighWatermarkMirror } from './high-watermark-mirror.js';
import { createGroupHost } from './group-host.js';
import { GroupCoordinator } from '../groups/coordinator.js';
import { OFFSETS_COMPACTION_RULE, OFFSETS_TOPIC, type StoredRecord } from '../groups/offsets-log.js';
import { RetentionRunner } from './retention-runner.js';
import { CompactionRunner } from './compaction-runner.js';
import type { BrokerService, ClusterView, ConsumeResult, EncodedConsumeResult, HealthView, ProduceRecord, ProduceResult, ReadyView, TopicConfigView, TopicView } from './service.js';

const MAX_CONSUME_BYTES = 4 << 20;
const internalTopic = () => invalidRequest(`'${OFFSETS_TOPIC}' is internal: only the group coordinator writes it (commit offsets through /groups)`);
/** Topics a follower creates at once from one replication frame. */
const APPLY_TOPICS_CONCURRENCY = 16;
/** While the data folder refuses writes: how often to probe it, and (as leader) to try handing over. */
const STORAGE_PROBE_MS = 1000;
/** How often every broker refreshes the other brokers' URLs from Redis (named in a 421 that knows no leader). */
const PEERS_REFRESH_MS = 2000;
/** At most this often, a Kafka Metadata request that names an unknown leader re-reads the registrations. */
const PEERS_ASK_MIN_MS = 200;
/** How long the start-up check of the advertised URL waits for an answer. */
const ADVERTISED_CHECK_TIMEOUT_MS = 3000;

/**
 * One broker: its logs, its side of the election, and replication in whichever role it has now.
 * Implements the BrokerService the HTTP layer calls.
 */
export class Broker implements BrokerService {
  readonly stats: BrokerMetrics;
  /** Consumer groups: active while this broker leads (groups/coordinator.ts). */
  readonly groups: GroupCoordinator;
  private readonly store: LeaseStore;
  private readonly elector: Elector;
  private readonly commits = new HighWatermarkWaiters(systemTime.timers);
  private readonly reads = new HighWatermarkWaiters(systemTime.timers);
  private readonly follower: FollowerApply;
  private readonly spreader = new RoundRobinByTopic();
  private readonly mirror: HighWatermarkMirror;
  private leaderRep: LeaderReplication | null = null;
  private metaVersionCache = '';
  private readonly creating = new Map<string, Promise<void>>();
  /** This broker's logs end below a mirrored high-water mark (set by the election's check, published with its registration). */
  private shortReport: { logEndTotal: number } | null = null;
  /** Partitions of the topics in `creating`: counted against --max-partitions before they exist. */
  private creatingPartitions = 0;
  private readonly frameKeys: FrameKeyCache;
  private readonly transport: StreamTransport;
  private storageTimer: NodeJS.Timeout | null = null;
  private handingOver = false;
  private handOverRefusalLogged = false;
  private readonly retention: RetentionRunner;
  private readonly compaction: CompactionRunner;
  private readonly topicDefaults: TopicDefaults;
  /** The other brokers as Redis last listed them (id → URL): still known while Redis is not. */
  private readonly peers = new Map<string, string>();
  /** The other brokers' Kafka listeners as Redis last listed them, and whether they were alive. */
  private readonly kafkaPeers = new Map<string, { kafka: KafkaAddress; alive: boolean }>();
  private peersAskedAt = 0;
  private peersTimer: NodeJS.Timeout | null = null;
  /** Random per process, in /health: the advertised-URL check tells this process from any other by it. */
  readonly instance = randomUUID();
  private advertised: AdvertisedCheck = { state: 'pending' };
  /** Whether the cluster identity check (broker/cluster-identity.ts) found this data folder belongs here. */
  private identityKnown = false;
  /** Whether the Redis server's settings were checked (redis/server-check.ts): once, when Redis first answers. */
  private redisChecked = false;
  /** What this broker registers for the others to compare (broker/settings-drift.ts); refreshed with the peers (an auth file reloads). */
  private settings: SharedSettings;
  /** Differences already warned about, so each is said once. */
  private readonly driftWarned = new Set<string>();
  /** Another live process registering under this --id, seen after start (broker/duplicate-id.ts covers the start): its URL. */
  private duplicateAt: { url: string; at: number } | null = null;
  private ownRegistrationSeen = false;
  /** How a problem found after start stops the broker (cli.ts: one line, exit 2). */
  onFatal: (line: string) => void = () => {};
  /** When the leader this broker follows last changed (monotonic): replication is judged from then on. */
  private leaderKnownAt = performance.now();

  constructor(
    private readonly config: BrokerConfig,
    private readonly logs: LogManager,
    private readonly state: BrokerState,
    private readonly log: Logger,
    /** The data folder's storage condition, as the logs report it (log/storage-health.ts). */
    private readonly storage: StorageHealth,
  ) {
    this.stats = createBrokerMetrics({
      logs,
      brokerId: config.id,
      cluster: config.cluster,
      dataDir: config.dataDir,
      minInsync: config.minInsync,
      storage: () => storage.view(),
      leader: () => (this.leaderRep ? { replicas: this.leaderRep.replicaCount(), inSync: this.leaderRep.inSyncCount() } : null),
      groups: () => (this.groups?.isActive() ? this.groups.list() : null),
    });
    this.refreshMetaVersion();
    this.settings = sharedSettings(config);
    // One set of TLS material for every connection this broker opens: to followers and to Redis.
    const tls = outboundTls(config);
    const framesSent = { stream: this.stats.framesSent.labels({ via: 'stream' }), post: this.stats.framesSent.labels({ via: 'post' }) };
    this.transport = new StreamTransport({
      tls,
      streams: config.replicationStream,
      log: (level, line) => this.log(level, line),
      onFrame: (via) => framesSent[via].inc(),
    });
    const redis = redisTarget(config, tls);
    this.store = new LeaseStore(redis, clusterKeys(config.cluster), redisCommandTimeoutMs(config.leaseMs, config.renewMs), config.redisWaitReplicas);
    const freshIdentity = randomUUID();
    this.store.identityToClaim = () => state.clusterIdentity() ?? freshIdentity;
    // Each registration this broker writes replaces the last one: another process's, every renew or
    // so, while two brokers share an --id (the listing every 2 s alone could miss it for long).
    this.store.onRegistrationReplaced = (other) => this.duplicateFound(other);
    this.elector = new Elector(this.store, state, {
      id: config.id,
      url: config.advertisedUrl,
      leaseMs: config.leaseMs,
      renewMs: config.renewMs,
      uncleanElection: config.uncleanElection,
      redisDisplay: describeRedis(redis),
      cluster: config.cluster,
      candidacy: () => ({
        lastLogEpoch: logs.all().reduce((max, l) => Math.max(max, l.lastEpoch()), -1),
        logEndTotal: logs.all().reduce((sum, l) => sum + l.logEndOffset(), 0),
      }),
      whyNotLead: () => uncleanRefusal(logs.all()),
      missingCommitted: async (isrMembers) => {
        const missing = missingCommitted(await this.store.mirroredHighWatermarks(), (topic, partition) => logs.partition(topic, partition)?.logEndOffset() ?? 0);
        const logEndTotal = logs.all().reduce((sum, l) => sum + l.logEndOffset(), 0);
        this.shortReport = missing ? { logEndTotal } : null;
        if (!missing) return null;
        const what = `${missing.partitions} partition(s) here end below the high-water mark the leader mirrored into Redis (${missing.examples.join(', ')})`;
        if (leadsShortAnyway({ id: config.id, logEndTotal }, isrMembers, await this.store.listBrokers())) {
          log('warn', `${what}, and so do those of every other in-sync replica, each alive: no copy of the missing records is left (unsynced records lost to a power cut?); leading with the most records`);
          return null;
        }
        return (
          `${what}: records the cluster acknowledged are missing from this data folder (deleted, replaced, or unsynced when the power went), so this broker follows until it has re-fetched them ` +
          '(it leads only once every in-sync replica is up and short too, if it holds the most). If the data was wiped on purpose, delete the cluster\'s Redis keys too, or start one broker with --unclean-election'
        );
      },
      registrationExtra: () => (this.shortReport ? { instance: this.instance, settings: this.settings, short: this.shortReport } : { instance: this.instance, settings: this.settings }),
      storageWritable: () => !storage.faulted(),
      log,
      ...(config.kafkaAdvertised ? { kafka: this.kafkaAddress() } : {}),
    }, systemTime);
    storage.on('change', (faulted) => this.onStorageChange(faulted));
    this.elector.on('elected', (epoch, isr) => this.becomeLeader(epoch, isr.members, isr.epoch === epoch ? (isr.version ?? 0) : 0));
    this.elector.on('demoted', (reason) => this.becomeFollower(reason));
    this.elector.on('leader', (holder) => {
      // Following or leading: the short report was for an election, and is stale once one is over.
      if (holder) this.shortReport = null;
      this.stats.epoch.set(this.elector.currentEpoch());
      this.leaderKnownAt = performance.now();
      if (holder && holder.id !== config.id) log('info', `following leader ${holder.id} (epoch ${holder.epoch})`, 'leader.following', { leader_id: holder.id, epoch: holder.epoch });
    });
    this.frameKeys = new FrameKeyCache(async (epoch) => decodeFrameKey(await this.store.frameKey(epoch)), () => performance.now());
    this.follower = new FollowerApply({
      logs,
      currentEpoch: () => this.elector.currentEpoch(),
      isLeader: () => this.elector.isLeader(),
      observeEpoch: (epoch, holder) => this.elector.observeEpoch(epoch, holder),
      applyTopics: (topics) => this.applyTopics(topics),
      reads: this.reads,
      frameKey: (epoch) => this.frameKeys.get(epoch),
      onApplied: (bytes, records) => {
        this.stats.replicatedBytes.inc(bytes);
        this.stats.replicatedRecords.inc(records);
      },
      log,
      clock: systemTime.clock,
    });
    this.mirror = new HighWatermarkMirror(logs, this.store, () => this.elector.fence(), log);
    this.groups = new GroupCoordinator(
      createGroupHost({
        logs,
        append: (records) => this.appendOffsets(records),
        leading: () => this.leaderRep !== null,
        notCoordinator: () => {
          const leader = this.elector.isLeader() ? null : this.leaderRef();
          return notLeader(leader, leader ? undefined : this.notLeaderHint());
        },
        log,
      }),
      { limits: { maxGroups: config.maxGroups, maxMembers: config.maxGroupMembers } },
    );
    this.topicDefaults = { retentionMs: config.retentionMs, retentionBytes: config.retentionBytes, minInsync: config.minInsync };
    this.retention = new RetentionRunner({
      logs,
      defaults: this.topicDefaults,
      intervalMs: config.retentionCheckMs,
      // Only a leader that may still write decides; its followers follow its log start.
      active: () => this.leaderRep !== null && this.elector.canWrite(),
      onDeleted: (log) => this.leaderRep?.afterAppend(log),
      log,
    });
    // Every replica compacts its own copy (as in Kafka), leader or not.
    this.compaction = new CompactionRunner({
      logs,
      intervalMs: config.retentionCheckMs,
      alwaysCompacted: new Map([[OFFSETS_TOPIC, OFFSETS_COMPACTION_RULE]]),
      log,
    });
  }

  /** Before start(): the line to stop with when another live broker is registered under this --id (broker/duplicate-id.ts), or null. */
  liveDuplicate(): Promise<string | null> {
    return liveDuplicate({
      id: this.config.id,
      instance: this.instance,
      url: this.config.advertisedUrl,
      cluster: this.config.cluster,
      leaseMs: this.config.leaseMs,
      renewMs: this.config.renewMs,
      readRegistration: (id) => this.store.readRegistration(id),
      tls: outboundTls(this.config),
    });
  }

  /**
   * Before start(), and until it has a verdict, every peers refresh: the line to stop with when this
   * data folder belongs to another cluster than the one in Redis (broker/cluster-identity.ts), or
   * null (it belongs here, or Redis cannot tell yet).
   */
  async otherCluster(): Promise<string | null> {
    if (this.identityKnown) return null;
    let verdict: IdentityVerdict;
    try {
      verdict = await checkClusterIdentity({
        remembered: this.state.clusterIdentity(),
        read: () => this.store.clusterIdentity(),
        claim: (id) => this.store.claimClusterIdentity(id),
        remember: (id) => this.state.rememberClusterIdentity(id),
        leading: this.elector.isLeader(),
      });
    } catch {
      return null; // Redis unreachable: asked again at the next refresh
    }
    if (verdict.state === 'ok') {
      this.identityKnown = true;
      this.log('debug', `cluster ${this.config.cluster} has identity ${verdict.identity}`);
      return null;
    }
    if (verdict.state === 'unknown') return null;
    const redis = describeRedis(redisTarget(this.config, {}));
    return otherClusterLine(verdict, { dataDir: this.config.dataDir, redis, cluster: this.config.cluster, identityKey: clusterKeys(this.config.cluster).identity });
  }

  /** One warning when the Redis server may evict the cluster's keys; asked again at each refresh until Redis answers. */
  private async checkRedisServer(): Promise<void> {
    let facts: RedisServerFacts;
    try {
      facts = parseInfo(await this.store.serverInfo());
    } catch {
      return;
    }
    this.redisChecked = true;
    const warning = evictionWarning(facts, describeRedis(redisTarget(this.config, {})));
    if (warning) this.log('warn', warning, 'redis.eviction', { maxmemory: facts.maxmemory, maxmemory_policy: facts.policy });
  }

  start(): void {
    this.elector.start();
    this.retention.start();
    this.compaction.start();
    void this.refreshPeers();
    this.peersTimer = setInterval(() => void this.refreshPeers(), PEERS_REFRESH_MS);
    this.peersTimer.unref();
    void this.checkAdvertised();
  }

  /**
   * Called once the HTTP server listens: does the advertised URL lead back to this process? A wrong
   * one used to fail silently — the leader's frames failed at debug level and /health said ok.
   * Two tries (a first connection may race a firewall or a slow resolver), then one warning.
   */
  private async checkAdvertised(): Promise<void> {
    const url = this.config.advertisedUrl;
    const self = { id: this.config.id, instance: this.instance };
    let check = await checkAdvertisedUrl(url, self, outboundTls(this.config), ADVERTISED_CHECK_TIMEOUT_MS);
    if (check.state !== 'ok') {
      await new Promise((resolve) => setTimeout(resolve, 500).unref());
      check = await checkAdvertisedUrl(url, self, outboundTls(this.config), ADVERTISED_CHECK_TIMEOUT_MS);
    }
    this.advertised = check;
    const warning = advertisedWarning(check, url, this.config.host);
    if (warning) this.log('warn', warning);
    else this.log('debug', `the advertised URL ${url} reaches this broker`);
  }

  /**
   * A follower whose leader has sent it nothing for longer than the replica lag: the leader cannot
   * reach it (a wrong advertised URL, a cut link) or it refuses the leader's frames. Null otherwise.
   */
  /**
   * A follower answered that a newer epoch exists. Its answer is not signed: whatever answers at its
   * address (a program that took a stopped follower's port, a man in the middle without TLS) could
   * name any epoch, and obeying one outright deposed this leader and stored the epoch as the
   * highest seen: 2^32-1 left every broker that met the impostor unable to take a storable epoch
   * again. Only an epoch Redis holds a frame key for (every leadership stores one with its epoch)
   * is believed.
   */
  private async staleEpochAnswered(epoch: number): Promise<void> {
    if (await this.frameKeys.get(epoch)) {
      await this.elector.observeEpoch(epoch);
      return;
    }
    if (this.unknownEpochAnswers++ % 1000 === 0) {
      this.log('warn', `a follower's answer named leader epoch ${epoch}, which Redis holds no leadership for (${this.unknownEpochAnswers} such answers): ignored; is something other than a broker answering at a follower's address?`);
    }
  }

  private unknownEpochAnswers = 0;

  private replicationStall(): string | null {
    if (this.elector.isLeader()) return null;
    const leader = this.elector.leader();
    if (!leader) return null;
    const sinceFrame = this.follower.msSinceLastFrame();
    const silentMs = Math.min(sinceFrame ?? Infinity, performance.now() - this.leaderKnownAt);
    if (silentMs <= this.config.replicaLagMs) return null;
    return `no replication from leader ${leader.id} for ${Math.round(silentMs)} ms (replica lag limit ${this.config.replicaLagMs} ms): the leader cannot reach this broker at ${this.config.advertisedUrl}, or this broker refuses its frames`;
  }

  private async refreshPeers(): Promise<void> {
    const other = await this.otherCluster();
    if (other) return this.onFatal(other);
    if (!this.redisChecked) await this.checkRedisServer();
    try {
      const brokers = await this.store.listBrokers();
      this.rememberPeers(brokers);
      this.noticeDuplicate(brokers.find((b) => b.id === this.config.id));
      this.settings = sharedSettings(this.config);
      for (const line of driftLines({ id: this.config.id, settings: this.settings }, brokers, this.driftWarned)) this.log('warn', line, 'cluster.settings-differ');
    } catch {
      // Redis unreachable: keep what we knew; the elector logs Redis failures.
    }
  }

  /**
   * This broker's own registration, as Redis holds it: rewritten by another process (two brokers
   * started with one --id while Redis was unreachable, so the start check could not tell) is said
   * once at error level and shown in /health until it stops.
   */
  private noticeDuplicate(own: { url: string | null; alive: boolean; instance?: string } | undefined): void {
    // Until this process's own registration has been seen once, another one is this broker's
    // previous process (a crash leaves it for up to a lease): not a duplicate.
    if (own?.instance === this.instance) this.ownRegistrationSeen = true;
    if (!this.ownRegistrationSeen) return;
    const other = own?.alive && own.instance !== undefined && own.instance !== this.instance ? (own.url ?? '?') : null;
    if (other !== null) this.duplicateFound(other);
  }

  /** Another process writes its registration under this --id (seen in the listing, or replaced by our own write): said once, shown in /health while it lasts. */
  private duplicateFound(other: string): void {
    if (this.duplicateSeen() === null) {
      this.log('error', `${duplicateLine({ id: this.config.id, url: this.config.advertisedUrl, cluster: this.config.cluster }, other)}; until one stops, the two overwrite each other's registration`, 'broker.duplicate-id', { other_url: other });
    }
    this.duplicateAt = { url: other, at: performance.now() };
  }

  /** The other process's URL while it was seen lately (the two overwrite each other, so it shows only now and then). */
  private duplicateSeen(): string | null {
    if (!this.duplicateAt) return null;
    return performance.now() - this.duplicateAt.at < 3 * PEERS_REFRESH_MS + 2 * this.config.leaseMs ? this.duplicateAt.url : null;
  }

  private rememberPeers(brokers: { id: string; url: string | null; alive: boolean; kafka?: KafkaAddress }[]): void {
    for (const b of brokers) if (b.url && b.id !== this.config.id) this.peers.set(b.id, b.url);
    for (const b of brokers) {
      if (b.id === this.config.id) continue;
      if (b.kafka) this.kafkaPeers.set(b.id, { kafka: b.kafka, alive: b.alive });
      // An expired registration names no Kafka address: the broker is gone (or has no listener now),
      // and Kafka clients must stop being told of it (it was listed for as long as this broker ran).
      else if (this.kafkaPeers.has(b.id)) this.kafkaPeers.get(b.id)!.alive = false;
    }
  }

  private kafkaAddress(): KafkaAddress {
    const a = this.config.kafkaAdvertised!;
    return { node_id: this.config.nodeId, host: a.host, port: a.port };
  }

  /** What the Kafka listener needs of this broker (kafka/backend.ts): the same logs, produce path and waiters as REST. */
  kafkaBackend(): KafkaBackend {
    return {
      view: () => this.kafkaView(),
      topics: () => this.logs.topics(),
      partition: (topic, partition) => this.logs.partition(topic, partition),
      waitCommitted: (log, offset, waitMs) => this.reads.wait(log, offset, waitMs),
      produce: (topic, records, compression, beforeAppend) => this.produce(topic, records, compression, beforeAppend),
      createTopic: (name, partitions) => this.createTopic(name, partitions),
      nextProducerId: () => this.store.nextProducerId(),
      groups: this.groups,
      defaultPartitions: this.config.defaultPartitions,
      maxMessageBytes: this.config.maxMessageBytes,
    };
  }

  private kafkaView(): KafkaClusterView {
    const self = this.kafkaAddress();
    const brokers = [{ id: this.config.id, kafka: self }];
    for (const [id, p] of this.kafkaPeers) if (p.alive) brokers.push({ id, kafka: p.kafka });
    const holder = this.elector.leader();
    const leader = holder ? { id: holder.id, kafka: holder.id === this.config.id ? self : (this.kafkaPeers.get(holder.id)?.kafka ?? null) } : null;
    // A leader whose Kafka address we have not read yet (it just started): read the registrations
    // now rather than at the next refresh, so clients are not told LEADER_NOT_AVAILABLE for long.
    if (leader && !leader.kafka && performance.now() - this.peersAskedAt > PEERS_ASK_MIN_MS) {
      this.peersAskedAt = performance.now();
      void this.refreshPeers();
    }
    // The leader is listed even when its registration just expired: clients must be able to reach it.
    if (leader?.kafka && !brokers.some((b) => b.id === leader.id)) brokers.push({ id: leader.id, kafka: leader.kafka });
    return {
      cluster: this.config.cluster,
      selfId: this.config.id,
      self,
      leader,
      epoch: this.elector.currentEpoch(),
      brokers,
      inSync: this.leaderRep?.inSyncMembers() ?? this.elector.lastIsr()?.members ?? [],
    };
  }

  async stop(): Promise<void> {
    if (this.storageTimer) clearInterval(this.storageTimer);
    this.storageTimer = null;
    if (this.peersTimer) clearInterval(this.peersTimer);
    const rep = this.leaderRep;
    if (rep && (await rep.leave())) this.log('info', 'left the in-sync set before handing over');
    this.retention.stop();
    this.compaction.stop();
    this.groups.deactivate();
    await this.elector.stop();
    this.mirror.stop();
    this.reads.releaseAll();
    await this.store.deregister(this.config.id).catch(() => {});
    await this.store.close();
    this.transport.close();
  }

  // ---- roles

  private becomeLeader(epoch: number, isr: string[], isrVersion: number): void {
    this.stats.elections.inc();
    this.stats.isLeader.set(1);
    this.stats.epoch.set(epoch);
    const rep: LeaderReplication = new LeaderReplication({
      logs: this.logs,
      store: this.store,
      epoch,
      frameKey: this.elector.frameKey()!,
      self: { id: this.config.id, url: this.config.advertisedUrl },
      transport: this.transport,
      time: systemTime,
      initialIsr: isr,
      minInsync: (topic) => this.minInsyncFor(topic),
      replicaLagMs: this.config.replicaLagMs,
      renewMs: this.config.renewMs,
      fence: () => this.elector.fence(),
      canWrite: (): boolean => this.elector.canWrite() && this.leaderRep === rep,
      metaVersion: () => this.metaVersionCache,
      commits: this.commits,
      reads: this.reads,
      onStaleEpoch: (newer) => void this.staleEpochAnswered(newer),
      rememberIsr: (doc) => this.state.rememberIsr(doc),
      initialIsrVersion: isrVersion,
      onIsrChange: (members, change) => {
        this.stats.isrChanges.inc({ change });
        this.stats.isrSize.set(members.length);
      },
      log: this.log,
    });
    this.leaderRep = rep;
    this.stats.isrSize.set(rep.inSyncCount());
    rep.start();
    this.mirror.start(this.topicsForMirror());
    this.groups.activate();
  }

  private becomeFollower(reason: string): void {
    this.stats.isLeader.set(0);
    this.mirror.stop();
    this.groups.deactivate();
    const rep = this.leaderRep;
    this.leaderRep = null;
    rep?.stop(notCommitted('this broker stopped leading before the records committed; the next leader may still commit them'));
    this.log('info', `now a follower (${reason})`, 'broker.follower', { reason });
  }

  // ---- storage faults

  /**
   * The data folder stopped (or started again) taking writes. While it refuses them: probe it every
   * STORAGE_PROBE_MS (a follower with nothing to apply would otherwise never learn it works again)
   * and, as leader, hand leadership to a healthy in-sync replica.
   */
  private onStorageChange(faulted: boolean): void {
    if (!faulted) {
      if (this.storageTimer) clearInterval(this.storageTimer);
      this.storageTimer = null;
      this.handOverRefusalLogged = false;
      return;
    }
    if (this.storageTimer) return;
    this.storageTimer = setInterval(() => void this.storageTick(), STORAGE_PROBE_MS);
    this.storageTimer.unref();
    void this.handOver();
  }

  private async storageTick(): Promise<void> {
    if (!this.storage.faulted()) return;
    await this.handOver();
    try {
      await probeWrite(this.config.dataDir);
      this.storage.probeSucceeded();
    } catch {
      // Still refused: the fault was logged when it began, and is in /health.
    }
  }

  /**
   * Leave the in-sync set (fenced by our lease, so the next leader does not wait for us) and release
   * the lease. With no other member in sync there is nobody to hand over to: stay leader (reads
   * still work, writes answer 507) and try again at the next probe.
   */
  private async handOver(): Promise<void> {
    const rep = this.leaderRep;
    if (!rep || this.handingOver || !this.storage.faulted()) return;
    this.handingOver = true;
    try {
      if (await rep.leave()) {
        this.log('warn', `handing leadership over: ${this.storage.reason()}`);
        await this.elector.stepDown('the data folder refuses writes');
      } else if (!this.handOverRefusalLogged) {
        this.handOverRefusalLogged = true;
        this.log('warn', 'the data folder refuses writes, but no other broker is in sync to take over: staying leader, refusing writes with 507');
      }
    } finally {
      this.handingOver = false;
    }
  }

  private leaderRef(): LeaderRef | null {
    const l = this.elector.leader();
    return l ? { id: l.id, url: l.url } : null;
  }

  /** The leader replication, if we are the leader and may still write. */
  private writable(): LeaderReplication {
    const rep = this.leaderRep;
    if (!rep || !this.elector.canWrite()) {
      const leader = this.elector.isLeader() ? null : this.leaderRef();
      throw notLeader(leader, leader ? undefined : this.notLeaderHint());
    }
    return rep;
  }

  /** What a 421 without a leader still tells the client: see errors.ts NotLeaderHint. */
  private notLeaderHint(): NotLeaderHint {
    const last = this.elector.lastKnownLeader();
    return {
      epoch: this.elector.currentEpoch(),
      lastLeader: last ? { id: last.id, url: last.url, epoch: last.epoch } : null,
      brokers: [...this.peers].map(([id, url]) => ({ id, url })),
      // A new leader needs at most a lease once the old one stopped renewing; asking every renew
      // period (at most a second) finds it soon after without hammering anyone.
      retryAfterMs: Math.min(this.config.renewMs, 1000),
      redis: this.elector.redisReachable(),
    };
  }

  // ---- topics

  private refreshMetaVersion(): void {
    this.metaVersionCache = this.logs.topicsVersion();
  }

  private topicsForMirror(): TopicInfo[] {
    return this.logs.topics();
  }

  /** The leader's topics (all, or those changed since what we acknowledged): new ones are created side by side. */
  private async applyTopics(topics: TopicInfo[]): Promise<void> {
    try {
      const results = await settleBounded(topics, APPLY_TOPICS_CONCURRENCY, async (t) => {
        const have = this.logs.topic(t.name);
        if (have && have.partitions !== t.partitions) {
          this.log('warn', `topic ${t.name}: leader has ${t.partitions} partitions, this broker ${have.partitions}; keeping ours`);
          return;
        }
        if (!have) await this.logs.createTopic(t.name, t.partitions, t.config);
        else if (!sameConfig(have.config, t.config)) await this.logs.setTopicConfig(t.name, t.config ?? {});
      });
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    } finally {
      this.refreshMetaVersion();
    }
  }

  /** Concurrent first produces to a new topic share one creation. */
  private createTopicAsLeader(name: string, partitions: number, config?: TopicConfig): Promise<void> {
    let pending = this.creating.get(name);
    if (!pending) {
      // Checked and counted in one synchronous step: concurrent creations cannot pass the cap together.
      if (name !== OFFSETS_TOPIC) this.checkPartitionRoom(name, partitions);
      this.creatingPartitions += partitions;
      pending = this.doCreateTopic(name, partitions, config).finally(() => {
        this.creating.delete(name);
        this.creatingPartitions -= partitions;
      });
      this.creating.set(name, pending);
    }
    return pending;
  }

  /** Throws TOO_MANY_PARTITIONS when creating `partitions` more would pass --max-partitions (the internal offsets topic not counted). */
  private checkPartitionRoom(name: string, partitions: number): void {
    let held = this.creatingPartitions;
    for (const t of this.logs.topics()) if (t.name !== OFFSETS_TOPIC) held += t.partitions;
    const limit = this.config.maxPartitions;
    if (held + partitions > limit) {
      throw YakError.of('TOO_MANY_PARTITIONS', `cannot create topic '${name}' with ${partitions} partition(s): the topics hold ${held} partitions, and the cluster holds at most ${limit} (--max-partitions)`, { limit });
    }
  }

  private async doCreateTopic(name: string, partitions: number, config?: TopicConfig): Promise<void> {
    await this.logs.createTopic(name, partitions, config);
    this.refreshMetaVersion();
    this.mirror.topicsChanged(this.logs.topics());
    this.log('info', `created topic ${name} with ${partitions} partition(s)`, 'topic.created', { topic: name, partitions });
  }

  async createTopic(name: string, partitions: number, config?: TopicConfig): Promise<void> {
    const rep = this.writable();
    if (name === OFFSETS_TOPIC) throw internalTopic();
    if (this.logs.topic(name)) throw topicExists(name);
    await this.createTopicAsLeader(name, partitions, config);
    await this.metadataReplicated(rep, `topic ${name} was created on the leader but not every in-sync replica confirmed it in time`);
  }

  /** Resolves once every in-sync replica has the current topic metadata; a TIMEOUT after produceTimeoutMs. */
  private async metadataReplicated(rep: LeaderReplication, late: string): Promise<void> {
    const committed = await Promise.race([
      rep.waitMetadata(this.metaVersionCache).then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), this.config.produceTimeoutMs).unref()),
    ]);
    if (!committed) throw timeout(late);
  }

  topicConfig(name: string): TopicConfigView {
    const info = this.logs.topic(name);
    if (!info) throw unknownTopic(name);
    return { name, config: effectiveConfig(this.topicDefaults, info.config), overrides: info.config ?? {} };
  }

  async setTopicConfig(name: string, change: unknown): Promise<TopicConfigView> {
    const rep = this.writable();
    const info = this.logs.topic(name);
    if (!info) throw unknownTopic(name);
    const next = applyConfigChange(info.config ?? {}, change);
    if (typeof next === 'string') throw invalidRequest(next);
    // Committed offsets are acknowledged writes that a new leader rebuilds groups from: retention
    // must never delete them (the topic is kept whole, retention -1, since it is not compacted).
    if (name === OFFSETS_TOPIC && (next['retention.ms'] !== info.config?.['retention.ms'] || next['retention.bytes'] !== info.config?.['retention.bytes'])) {
      throw invalidRequest(`'${OFFSETS_TOPIC}' keeps every committed offset (retention.ms and retention.bytes -1): retention would delete acknowledged commits, so they cannot be changed`);
    }
    if (name === OFFSETS_TOPIC && next['cleanup.policy'] !== info.config?.['cleanup.policy'] && next['cleanup.policy'] !== 'compact') {
      throw invalidRequest(`'${OFFSETS_TOPIC}' is compacted (cleanup.policy compact): a rebuild needs the latest record of every key, so cleanup.policy cannot be changed`);
    }
    await this.logs.setTopicConfig(name, next);
    this.refreshMetaVersion();
    this.log('info', `topic ${name}: config now ${JSON.stringify(next)}`);
    // A lowered min.insync.replicas may commit records that were waiting for more replicas: now.
    for (let p = 0; p < info.partitions; p++) {
      const log = this.logs.partition(name, p);
      if (log) rep.afterAppend(log);
    }
    await this.metadataReplicated(rep, `the config of topic ${name} was changed on the leader but not every in-sync replica confirmed it in time`);
    return this.topicConfig(name);
  }

  /** In-sync replicas a produce to `topic` needs now: its min.insync.replicas, else --min-insync. */
  private minInsyncFor(topic: string): number {
    return minInsyncReplicas(this.config.minInsync, this.logs.topic(topic)?.config);
  }

  topics(): TopicView[] {
    return this.logs.topics().map((t) => ({
      name: t.name,
      partitions: Array.from({ length: t.partitions }, (_, p) => {
        const log = this.logs.partition(t.name, p);
        return { partition: p, high_watermark: log?.highWatermark() ?? 0, log_end_offset: log?.logEndOffset() ?? 0, log_start_offset: log?.logStartOffset() ?? 0 };
      }),
      config: effectiveConfig(this.topicDefaults, t.config),
      ...(t.name === OFFSETS_TOPIC ? { internal: true } : {}),
    }));
  }

  // ---- data

  async produce(topic: string, records: ProduceRecord[], compression?: SupportedCodec, beforeAppend?: BeforeAppend): Promise<ProduceResult[]> {
    if (topic === OFFSETS_TOPIC) throw internalTopic();
    try {
      const results = await this.produceInner(topic, records, compression, beforeAppend);
      this.stats.produceOk.inc();
      return results;
    } catch (err) {
      const code = isStorageError(err) ? fromStorageError(err).code : (err as { code?: string }).code;
      this.stats.produceRequests.inc({ outcome: code ?? 'error' });
      throw err;
    }
  }

  private async produceInner(topic: string, records: ProduceRecord[], producerCodec: SupportedCodec | undefined, beforeAppend?: BeforeAppend): Promise<ProduceResult[]> {
    let rep = this.writable();
    if (records.length === 0) throw invalidRequest('records must not be empty');
    let info = this.logs.topic(topic);
    // Route before anything is written, so a bad partition changes nothing.
    const count = info?.partitions ?? this.config.defaultPartitions;
    const spreader = this.spreader.for(topic);
    const targets = records.map((r) => choosePartition(r.key, r.partition, count, spreader, topic));
    const minInsync = this.minInsyncFor(topic);
    if (rep.inSyncCount() < minInsync) throw notEnoughReplicas(rep.inSyncCount(), minInsync, topic);
    if (!info) {
      await this.createTopicAsLeader(topic, this.config.defaultPartitions);
      info = this.logs.topic(topic)!;
      rep = this.writable();
    }
    const groups = new Map<number, number[]>();
    targets.forEach((p, i) => {
      const g = groups.get(p);
      if (g) g.push(i);
      else groups.set(p, [i]);
    });
    const epoch = this.elector.currentEpoch();
    // Each partition's share of the request is one batch: compressed as a whole when a codec applies.
    const codec = compressionFor(info.config?.['compression.type'], producerCodec);
    const now = Date.now();
    const results: ProduceResult[] = new Array(records.length);
    const started = performance.now();
    const appended: { log: PartitionLog; last: number }[] = [];
    let bytes = 0;
    for (const [p, idxs] of groups) {
      const log = this.logs.partition(topic, p);
      if (!log) throw unknownPartition(topic, p, info.partitions);
      const inputs: RecordInput[] = idxs.map((i) => {
        const r = records[i]!;
        bytes += r.payload.length;
        return { key: r.key, payload: r.payload, headers: r.headers, timestamp: r.timestamp ?? now, payloadBytes: r.payloadBytes };
      });
      let written: { baseOffset: number; lastOffset: number };
      const settled = beforeAppend?.(p, log);
      try {
        written = await log.append(inputs, epoch, codec);
        settled?.(written);
      } catch (err) {
        settled?.(null);
        // Records of other partitions are in their logs already and may commit: not a refusal any more.
        if (appended.length > 0) {
          const why = isStorageError(err) ? `storage ${err.kind}, ${err.errno}` : 'see the broker log';
          if (!isStorageError(err)) this.log('error', `append to ${topic}/${p} failed: ${(err as Error).stack ?? String(err)}`);
          throw notCommitted(`records for ${appended.length} partition(s) were written, then the write to partition ${p} failed (${why}); some may still commit`);
        }
        throw err;
      }
      const { baseOffset, lastOffset } = written;
      idxs.forEach((recordIndex, j) => (results[recordIndex] = { partition: p, offset: baseOffset + j }));
      appended.push({ log, last: lastOffset });
      rep.afterAppend(log);
    }
    // Leadership may have ended while we appended: then nothing will commit these records here.
    if (!rep.isActive()) throw notCommitted('leadership changed while the records were being written; the next leader may still commit them');
    const counters = this.stats.topic(topic);
    counters.recordsIn.inc(records.length);
    counters.bytesIn.inc(bytes);
    // One partition (every single-record produce): its wait alone, without Promise.all's array and promises.
    const committed =
      appended.length === 1
        ? await this.commits.wait(appended[0]!.log, appended[0]!.last, this.config.produceTimeoutMs)
        : (await Promise.all(appended.map((a) => this.commits.wait(a.log, a.last, this.config.produceTimeoutMs)))).every((ok) => ok);
    if (!committed) {
      // Written but not committed: they may still commit, so this is a timeout, never a refusal.
      const isr = rep.inSyncCount();
      const required = this.minInsyncFor(topic);
      const why = isr < required ? `only ${isr} replica(s) in sync, ${required} required by min.insync.replicas` : 'not every in-sync replica confirmed them';
      throw timeout(`records were written but not committed within ${this.config.produceTimeoutMs} ms (${why}); they may still commit`);
    }
    this.stats.commitLatency.observe((performance.now() - started) / 1000);
    return results;
  }

  /**
   * The group coordinator's writes: through the same path as any produce (appended, replicated to
   * every in-sync replica, then answered), to one partition never cut by retention, compacted by key
   * (compaction-runner.ts keeps what a rebuild needs).
   */
  private async appendOffsets(records: StoredRecord[]): Promise<void> {
    this.writable();
    if (!this.logs.topic(OFFSETS_TOPIC)) await this.createTopicAsLeader(OFFSETS_TOPIC, 1, { 'retention.ms': -1, 'retention.bytes': -1, 'cleanup.policy': 'compact' });
    await this.produceInner(OFFSETS_TOPIC, records.map((r) => ({ key: r.key, payload: r.payload, headers: {}, partition: 0 })), undefined);
  }

  async consume(topic: string, partition: number, offset: number, max: number, waitMs: number): Promise<ConsumeResult> {
    const log = await this.readableLog(topic, partition, offset, waitMs);
    const highWatermark = log.highWatermark();
    const records = offset < highWatermark ? await log.read(offset, highWatermark, max, MAX_CONSUME_BYTES) : [];
    if (records.length === 0) this.checkLogStart(log, offset);
    this.stats.consumeRequests.inc();
    if (records.length) {
      const counters = this.stats.topic(topic);
      counters.recordsOut.inc(records.length);
      counters.bytesOut.inc(records.reduce((s, r) => s + r.payload.length, 0));
    }
    const last = records[records.length - 1];
    return {
      topic,
      partition,
      records: records.map((r) => ({ offset: r.offset, key: r.key, payload: r.payload, timestamp: r.timestamp, headers: r.headers })),
      // Nothing read below the high-water mark: only compaction's gaps lay there, skip them.
      next_offset: last ? last.offset + 1 : Math.max(offset, highWatermark),
      high_watermark: highWatermark,
    };
  }

  async consumeEncoded(topic: string, partition: number, offset: number, max: number, waitMs: number): Promise<EncodedConsumeResult> {
    const log = await this.readableLog(topic, partition, offset, waitMs);
    const highWatermark = log.highWatermark();
    const records = offset < highWatermark ? await log.readEncoded(offset, highWatermark, max, MAX_CONSUME_BYTES) : [];
    if (records.length === 0) this.checkLogStart(log, offset);
    this.stats.consumeRequests.inc();
    const served = (count: number, payloadBytes: number): void => {
      if (count === 0) return;
      const counters = this.stats.topic(topic);
      counters.recordsOut.inc(count);
      counters.bytesOut.inc(payloadBytes);
    };
    return { topic, partition, offset, records, high_watermark: highWatermark, served };
  }

  /** The partition to read, once it has records past `offset` or `waitMs` (a long poll) ran out. */
  private async readableLog(topic: string, partition: number, offset: number, waitMs: number): Promise<PartitionLog> {
    const info = this.logs.topic(topic);
    if (!info) throw unknownTopic(topic);
    const log = this.logs.partition(topic, partition);
    if (!log) throw unknownPartition(topic, partition, info.partitions);
    this.checkLogStart(log, offset);
    if (waitMs > 0 && log.highWatermark() <= offset) await this.reads.wait(log, offset, waitMs);
    return log;
  }

  /**
   * Below the log start: 416. Checked before the read, and again when a read found nothing (retention
   * may have deleted the segment between the check and the read), never after records were read:
   * those are committed records served before their segment went.
   */
  private checkLogStart(log: PartitionLog, offset: number): void {
    const start = log.logStartOffset();
    if (offset < start) throw offsetOutOfRange(log.topic, log.partition, offset, start);
  }

  replicate(frame: Buffer, auth: string | string[] | undefined, onAuthenticated?: () => void): Promise<Buffer> {
    return this.follower.handle(frame, auth, onAuthenticated);
  }

  admitFrame(auth: string | string[] | undefined, sender: string | string[] | undefined, length: number): Promise<boolean> {
    return this.follower.admit(auth, sender, length);
  }

  // ---- metadata

  leader(): { leader: LeaderRef | null; epoch: number; brokers?: LeaderRef[] } {
    const leader = this.leaderRef();
    if (leader) return { leader, epoch: this.elector.currentEpoch() };
    return { leader, epoch: this.elector.currentEpoch(), brokers: this.notLeaderHint().brokers };
  }

  async cluster(): Promise<ClusterView> {
    const leader = this.leaderRef();
    const brokers = await this.store.listBrokers().catch((): { id: string; url: string | null; alive: boolean }[] => []);
    this.rememberPeers(brokers);
    const isr = new Set(this.leaderRep?.inSyncMembers() ?? this.elector.lastIsr()?.members ?? []);
    if (!brokers.some((b) => b.id === this.config.id)) brokers.push({ id: this.config.id, url: this.config.advertisedUrl, alive: true });
    return {
      cluster: this.config.cluster,
      epoch: this.elector.currentEpoch(),
      leader,
      brokers: brokers.map((b) => ({
        id: b.id,
        url: b.url ?? '',
        role: leader?.id === b.id ? 'leader' : 'follower',
        alive: b.alive,
        in_sync: isr.has(b.id),
      })),
    };
  }

  health(): HealthView {
    const redis = this.elector.redisReachable();
    const unclean = this.logs.all().filter((l) => l.unclean()).map((l) => `${l.topic}/${l.partition}`);
    const storageFaulted = this.storage.faulted();
    const reasons: string[] = [];
    if (!redis) reasons.push('cannot reach Redis');
    if (unclean.length > 0) reasons.push(`unclean partition(s) ${unclean.join(', ')}: re-fetching from the leader`);
    const storage = this.storage.reason();
    if (storageFaulted) reasons.push(storage ?? 'the data folder refuses writes');
    const stall = this.replicationStall();
    if (stall) reasons.push(stall);
    const waiting = this.elector.recoveryWait();
    if (waiting) reasons.push(waiting);
    const duplicate = this.duplicateSeen();
    if (duplicate !== null) reasons.push(`another broker registers with this broker's id ${this.config.id} (at ${duplicate}): give one of them another --id`);
    const leader = this.elector.isLeader() ? null : this.elector.leader();
    const sinceFrame = this.follower.msSinceLastFrame();
    return {
      status: reasons.length === 0 ? 'ok' : 'degraded',
      id: this.config.id,
      role: this.elector.isLeader() ? 'leader' : 'follower',
      epoch: this.elector.currentEpoch(),
      lease_ms_left: this.elector.leaseMsLeft(),
      redis,
      unclean_partitions: unclean,
      storage: this.storage.view(),
      instance: this.instance,
      cluster_identity: this.state.clusterIdentity(),
      advertised_url: { url: this.config.advertisedUrl, check: this.advertised.state, ...('detail' in this.advertised ? { detail: this.advertised.detail } : {}) },
      replication: this.elector.isLeader() ? null : { leader: leader?.id ?? null, ms_since_last_frame: sinceFrame === null ? null : Math.round(sinceFrame) },
      degraded_reasons: reasons,
    };
  }

  /**
   * Whether this broker can serve its role now: a leader with a valid lease and a writable log,
   * or a follower of a known leader that is in sync or receiving its records.
   */
  ready(): ReadyView {
    const health = this.health();
    const reasons: string[] = [];
    const storage = this.storage.reason();
    if (storage) reasons.push(storage);
    if (this.elector.isLeader()) {
      if (!this.elector.canWrite()) reasons.push('leader whose lease may have run out: not writing until it is renewed');
    } else {
      const leader = this.elector.leader();
      const inSync = this.elector.lastIsr()?.members.includes(this.config.id) ?? false;
      const sinceFrame = this.follower.msSinceLastFrame();
      const recentMs = Math.max(this.config.leaseMs, 2000);
      if (!leader) reasons.push('no leader known');
      else if (!inSync && (sinceFrame === null || sinceFrame > recentMs)) {
        reasons.push(`not in sync, and no replication from leader ${leader.id} in the last ${recentMs} ms`);
      }
    }
    return { ...health, ready: reasons.length === 0, reasons };
  }

  metrics(): Record<string, unknown> {
    return {
      broker: this.config.id,
      role: this.elector.isLeader() ? 'leader' : 'follower',
      epoch: this.elector.currentEpoch(),
      in_sync: this.leaderRep?.inSyncMembers() ?? this.elector.lastIsr()?.members ?? [],
      replicas: this.leaderRep?.replicaProgress() ?? [],
      ...this.stats.toJSON(),
    };
  }

  prometheus(): string {
    return this.stats.toPrometheus();
  }
}
