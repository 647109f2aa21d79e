import { statfsSync } from 'node:fs';
import type { LogManager } from '../log/types.js';
import type { StorageView } from '../log/storage-health.js';
import { LATENCY_BUCKETS_SECONDS, MetricsRegistry, runtimeMetrics, type Counter, type CounterChild } from '../metrics/index.js';

/** One topic's traffic counters, bound once (bench/metrics-recording.ts: ~50 ns a produce instead of ~450 ns). */
export interface TopicCounters {
  recordsIn: CounterChild;
  bytesIn: CounterChild;
  recordsOut: CounterChild;
  bytesOut: CounterChild;
}

/** What the broker's gauges are read from at scrape time. */
export interface MetricSources {
  logs: LogManager;
  brokerId: string;
  cluster: string;
  dataDir: string;
  minInsync: number;
  storage(): StorageView;
  /** Set while this broker leads: brokers replicating its logs (itself included) and in-sync members. */
  leader(): { replicas: number; inSync: number } | null;
  /** The consumer groups while this broker's coordinator serves them; null otherwise (a follower has none). */
  groups?(): { group: string; members: number; lag: number }[] | null;
}

/**
 * Every metric the broker exposes at GET /metrics, defined in one place. Names follow Prometheus'
 * conventions: base units in the name (`_seconds`, `_bytes`), `_total` for counters, `yak_` before
 * each in the text format. Label cardinality (docs/metrics.md): `topic` grows with the topics,
 * `topic`+`partition` with the partitions; every other label has a small fixed set of values.
 */
export function createBrokerMetrics(src: MetricSources) {
  const registry = new MetricsRegistry();
  const m = {
    registry,
    runtime: runtimeMetrics(),
    recordsIn: registry.counter('records_in_total', 'Records appended by producers on this broker (as leader)', ['topic']),
    bytesIn: registry.counter('payload_in_bytes_total', 'Payload bytes appended by producers on this broker (as leader)', ['topic']),
    recordsOut: registry.counter('records_out_total', 'Records served to consumers', ['topic']),
    bytesOut: registry.counter('payload_out_bytes_total', 'Payload bytes served to consumers', ['topic']),
    produceRequests: registry.counter('produce_requests_total', 'Produce requests answered, by outcome (ok or the error code)', ['outcome']),
    consumeRequests: registry.counter('consume_requests_total', 'Consume requests answered'),
    replicatedRecords: registry.counter('replicated_records_total', 'Records appended as a follower from the leader'),
    replicatedBytes: registry.counter('replicated_bytes_total', 'Record bytes appended as a follower from the leader'),
    framesSent: registry.counter('replication_frames_sent_total', 'Leader: replication frames sent to followers, by how (stream: the upgraded connection; post: POST /replica/append)', ['via']),
    httpRefused: registry.counter('http_refused_total', 'Refused to protect the broker: connection_limit (a connection past --max-connections that did not prove itself a replication connection, closed unanswered or, for a stream upgrade of an older leader, after a 429), replica_throttled (a POST /replica/append past the unauthenticated-frame cap, 429)', ['reason']),
    commitLatency: registry.histogram(
      'commit_latency_seconds',
      'Leader: append to commit (replicated to every in-sync replica), per produce request, in seconds',
      LATENCY_BUCKETS_SECONDS,
    ),
    elections: registry.counter('elections_won_total', 'Times this broker became leader'),
    isrChanges: registry.counter('isr_changes_total', 'In-sync set changes made by this broker as leader', ['change']),
    isLeader: registry.gauge('is_leader', '1 while this broker is the leader'),
    epoch: registry.gauge('leader_epoch', 'The leader epoch this broker knows'),
    isrSize: registry.gauge('isr_size', 'Members of the in-sync set this broker knows'),
    highWatermark: registry.gauge('high_watermark', 'Committed offset boundary per partition', ['topic', 'partition']),
    logEndOffset: registry.gauge('log_end_offset', 'One past the last record per partition', ['topic', 'partition']),
    unclean: registry.gauge('partition_unclean', '1 while a partition lacks committed records cut off as damaged at start-up (not re-fetched yet): this broker must not lead', ['topic', 'partition']),
  };
  registry.gauge('broker_info', 'The broker id and cluster, as labels; always 1', ['broker', 'cluster']).set({ broker: src.brokerId, cluster: src.cluster }, 1);
  registry.gauge('min_insync_replicas', 'In-sync replicas (leader included) a produce needs (--min-insync)').set(src.minInsync);
  const partitions = registry.gauge('partitions', 'Partition logs on this broker');
  // Not `replicas`: /metrics' JSON has a field of that name already (each follower's progress).
  const replicas = registry.gauge('replica_brokers', 'Leader: brokers replicating its partitions, itself included (0 on a follower)');
  const underReplicated = registry.gauge('under_replicated_partitions', 'Leader: partitions with a replica outside the in-sync set (0 on a follower)');
  const diskFree = registry.gauge('data_dir_free_bytes', 'Bytes free for this broker in the file system of its data folder');
  const diskSize = registry.gauge('data_dir_size_bytes', 'Size of the file system of the data folder, in bytes');
  const storageFaulted = registry.gauge('storage_faulted', '1 while the data folder refuses writes');
  const failedWrites = follow(registry.counter('storage_failed_writes_total', 'Writes to the data folder that failed'));
  const faults = follow(registry.counter('storage_faults_total', 'Storage faults (conditions, not writes) since start'));

  const groupLag = registry.gauge('group_lag', 'Leader: records committed to the topics but not yet committed as processed by the group (sum over its partitions of high-water mark - committed offset)', ['group']);
  const groupMembers = registry.gauge('group_members', 'Leader: members of each consumer group', ['group']);
  let groupsShown = new Set<string>();
  registry.onCollect(() => {
    // Groups live on the leader: a broker that stops leading drops their series.
    const groups = src.groups?.() ?? [];
    const now = new Set(groups.map((g) => g.group));
    for (const name of groupsShown) {
      if (now.has(name)) continue;
      groupLag.remove({ group: name });
      groupMembers.remove({ group: name });
    }
    for (const g of groups) {
      groupLag.set({ group: g.group }, g.lag);
      groupMembers.set({ group: g.group }, g.members);
    }
    groupsShown = now;
  });
  registry.onCollect(() => {
    const all = src.logs.all();
    for (const log of all) {
      const labels = { topic: log.topic, partition: String(log.partition) };
      m.highWatermark.set(labels, log.highWatermark());
      m.logEndOffset.set(labels, log.logEndOffset());
      m.unclean.set(labels, log.unclean() ? 1 : 0);
    }
    partitions.set(all.length);
    const lead = src.leader();
    replicas.set(lead?.replicas ?? 0);
    // The in-sync set is the cluster's, not a partition's: one member missing leaves every partition short.
    underReplicated.set(lead && lead.inSync < lead.replicas ? all.length : 0);
    const storage = src.storage();
    storageFaulted.set(storage.state === 'faulted' ? 1 : 0);
    failedWrites(storage.failed_writes_total);
    faults(storage.faults_total);
    try {
      const fs = statfsSync(src.dataDir);
      diskFree.set(fs.bavail * fs.bsize);
      diskSize.set(fs.blocks * fs.bsize);
    } catch {
      // The folder is gone or unreadable: storage_faulted and the logs say so; no number beats a wrong one.
      diskFree.set(NaN);
      diskSize.set(NaN);
    }
  });
  const byTopic = new Map<string, TopicCounters>();
  const topic = (name: string): TopicCounters => {
    let c = byTopic.get(name);
    if (!c) {
      const labels = { topic: name };
      c = { recordsIn: m.recordsIn.labels(labels), bytesIn: m.bytesIn.labels(labels), recordsOut: m.recordsOut.labels(labels), bytesOut: m.bytesOut.labels(labels) };
      byTopic.set(name, c);
    }
    return c;
  };
  return {
    ...m,
    topic,
    produceOk: m.produceRequests.labels({ outcome: 'ok' }),
    toJSON: () => ({ ...registry.toJSON(), ...m.runtime.toJSON() }),
    toPrometheus: () => registry.toPrometheus() + m.runtime.toPrometheus(),
  };
}

/** A counter that follows a running total kept elsewhere (it only ever adds the increase). */
function follow(counter: Counter): (total: number) => void {
  let last = 0;
  return (total) => {
    if (total > last) counter.inc(total - last);
    last = Math.max(last, total);
  };
}

export type BrokerMetrics = ReturnType<typeof createBrokerMetrics>;
