import type { CompactionReport, EpochEntry, LogManager, PartitionLog, RawBatch, RecordInput, RecoveryReport, StoredRecord, TopicInfo } from '../../broker-runtime/src/log/types.js';
import type { RetentionDecision } from '../../broker-runtime/src/log/retention.js';
import type { Entry, SimLog } from './disk.js';

/** The one topic of a simulated cluster (topics are fixed here). */
export const SIM_TOPIC = 'sim';

const notSimulated = (what: string) => Promise.reject(new Error(`${what} is not simulated`));

/**
 * The PartitionLog the real replication classes read and write, over a simulated partition
 * (SimLog: records with epochs on the fake disk, which the checker watches). The records travel
 * as opaque bytes, as the real ones do: here a JSON array of entries, at most `maxEntries` per
 * read, standing for the encoded batch. Retention is not modelled: every log starts at 0.
 */
export class SimPartitionLog implements PartitionLog {
  readonly topic = SIM_TOPIC;
  readonly dir = '';
  readonly recovery: RecoveryReport = { truncatedBytes: 0, rebuiltIndexes: 0, state: 'created' };

  constructor(
    readonly sim: SimLog,
    private readonly maxEntries: number,
  ) {}

  get partition(): number {
    return this.sim.partition;
  }

  logEndOffset(): number {
    return this.sim.logEndOffset();
  }

  logStartOffset(): number {
    return 0;
  }

  highWatermark(): number {
    return this.sim.highWatermark();
  }

  setHighWatermark(offset: number): void {
    this.sim.setHighWatermark(offset);
  }

  append(records: RecordInput[], epoch: number): Promise<{ baseOffset: number; lastOffset: number }> {
    return Promise.resolve(this.sim.append(records.map((r) => r.payload), epoch));
  }

  appendRaw(bytes: Buffer): Promise<{ count: number; nextOffset: number }> {
    try {
      const entries = JSON.parse(bytes.toString('utf8')) as Entry[];
      this.sim.appendRaw(entries);
      return Promise.resolve({ count: entries.length, nextOffset: this.sim.logEndOffset() });
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  readRaw(from: number): Promise<RawBatch> {
    const entries = this.sim.read(from, this.maxEntries);
    return Promise.resolve({ bytes: Buffer.from(JSON.stringify(entries)), baseOffset: from, nextOffset: from + entries.length, count: entries.length });
  }

  read(): Promise<StoredRecord[]> {
    return notSimulated('read');
  }

  readEncoded(): Promise<Buffer[]> {
    return notSimulated('readEncoded');
  }

  truncateTo(offset: number): Promise<void> {
    this.sim.truncateTo(offset);
    return Promise.resolve();
  }

  applyRetention(): Promise<RetentionDecision> {
    return notSimulated('retention');
  }

  advanceLogStart(): Promise<void> {
    return notSimulated('a log start above 0');
  }

  compact(): Promise<CompactionReport> {
    return notSimulated('compaction');
  }

  restartAt(): Promise<void> {
    return notSimulated('a log start above 0');
  }

  epochs(): EpochEntry[] {
    return this.sim.epochs();
  }

  lastEpoch(): number {
    return this.sim.lastEpoch();
  }

  unclean(): boolean {
    return false;
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The LogManager of a simulated broker: one fixed topic whose partitions are the disk's. */
export class SimLogManager implements LogManager {
  readonly dataDir = '';

  constructor(private readonly logs: SimPartitionLog[]) {}

  topics(): TopicInfo[] {
    return [{ name: SIM_TOPIC, partitions: this.logs.length }];
  }

  topic(name: string): TopicInfo | undefined {
    return name === SIM_TOPIC ? this.topics()[0] : undefined;
  }

  createTopic(): Promise<void> {
    return notSimulated('topic creation');
  }

  setTopicConfig(): Promise<void> {
    return notSimulated('topic configuration');
  }

  topicsVersion(): string {
    return SIM_TOPIC;
  }

  topicsSeq(): number {
    return 0;
  }

  topicsChangedSince(): TopicInfo[] {
    return [];
  }

  partition(topic: string, partition: number): SimPartitionLog | undefined {
    return topic === SIM_TOPIC ? this.logs[partition] : undefined;
  }

  all(): SimPartitionLog[] {
    return this.logs;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
