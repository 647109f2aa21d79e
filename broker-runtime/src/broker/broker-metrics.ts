import type { LogManager } from '../log/types.js';
import { MetricsRegistry } from '../metrics/index.js';

/** Every metric the broker exposes at GET /metrics, defined in one place. */
export function createBrokerMetrics(logs: LogManager) {
  const registry = new MetricsRegistry();
  const m = {
    registry,
    recordsIn: registry.counter('records_in_total', 'Records appended by producers on this broker (as leader)', ['topic']),
    bytesIn: registry.counter('bytes_in_total', 'Payload bytes appended by producers on this broker (as leader)', ['topic']),
    recordsOut: registry.counter('records_out_total', 'Records served to consumers', ['topic']),
    bytesOut: registry.counter('bytes_out_total', 'Payload bytes served to consumers', ['topic']),
    produceRequests: registry.counter('produce_requests_total', 'Produce requests answered, by outcome', ['outcome']),
    consumeRequests: registry.counter('consume_requests_total', 'Consume requests answered'),
    replicatedRecords: registry.counter('replicated_records_total', 'Records appended as a follower from the leader'),
    replicatedBytes: registry.counter('replicated_bytes_total', 'Record bytes appended as a follower from the leader'),
    commitLatency: registry.summary('commit_latency_ms', 'Leader: append to commit (replicated to every in-sync replica), per produce request'),
    elections: registry.counter('elections_won_total', 'Times this broker became leader'),
    isrChanges: registry.counter('isr_changes_total', 'In-sync set changes made by this broker as leader', ['change']),
    isLeader: registry.gauge('is_leader', '1 while this broker is the leader'),
    epoch: registry.gauge('epoch', 'The leader epoch this broker knows'),
    isrSize: registry.gauge('isr_size', 'Members of the in-sync set this broker knows'),
    highWatermark: registry.gauge('high_watermark', 'Committed offset boundary per partition', ['topic', 'partition']),
    logEndOffset: registry.gauge('log_end_offset', 'One past the last record per partition', ['topic', 'partition']),
    unclean: registry.gauge('partition_unclean', '1 while a partition lacks committed records cut off as damaged at start-up (not re-fetched yet): this broker must not lead', ['topic', 'partition']),
  };
  registry.onCollect(() => {
    for (const log of logs.all()) {
      const labels = { topic: log.topic, partition: String(log.partition) };
      m.highWatermark.set(labels, log.highWatermark());
      m.logEndOffset.set(labels, log.logEndOffset());
      m.unclean.set(labels, log.unclean() ? 1 : 0);
    }
  });
  return m;
}

export type BrokerMetrics = ReturnType<typeof createBrokerMetrics>;
