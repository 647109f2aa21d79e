import type { CoordinatorHost } from '../groups/coordinator.js';
import { OFFSETS_TOPIC, type StoredRecord } from '../groups/offsets-log.js';
import type { LogManager } from '../log/types.js';
import type { Logger } from '../logger.js';

/** Records read at once while a new leader reads the offsets topic back, or scans for a timestamp. */
const READ_CHUNK_RECORDS = 1000;
const READ_CHUNK_BYTES = 4 << 20;
/** How long a new leader waits for what it holds of the offsets topic to commit before it tries again. */
const LOAD_COMMIT_WAIT_MS = 30_000;

export interface GroupHostDeps {
  logs: LogManager;
  /** Write to the offsets topic through the leader's produce path: resolves once committed. */
  append: (records: StoredRecord[]) => Promise<void>;
  /** Whether this broker still leads (a load in progress stops when not). */
  leading: () => boolean;
  notCoordinator: () => Error;
  log: Logger;
}

/** The broker side of the group coordinator: its logs, its produce path, its clock. */
export function createGroupHost(d: GroupHostDeps): CoordinatorHost {
  return {
    now: () => Date.now(),
    append: d.append,
    readOffsetsTopic: () => readBack(d),
    partitionCount: (topic) => d.logs.topic(topic)?.partitions,
    highWatermark: (topic, partition) => d.logs.partition(topic, partition)?.highWatermark() ?? 0,
    logStartOffset: (topic, partition) => d.logs.partition(topic, partition)?.logStartOffset() ?? 0,
    offsetForTimestamp: (topic, partition, ts) => offsetForTimestamp(d.logs, topic, partition, ts),
    notCoordinator: d.notCoordinator,
    log: d.log,
  };
}

/**
 * Everything this leader holds of the offsets topic, once it is committed: the previous leader's
 * last commits may sit past our high-water mark until the in-sync replicas confirm them, and a
 * commit acknowledged to a client must not be read back as missing.
 */
async function* readBack(d: GroupHostDeps): AsyncGenerator<string> {
  const partitions = d.logs.topic(OFFSETS_TOPIC)?.partitions ?? 0;
  for (let p = 0; p < partitions; p++) {
    const log = d.logs.partition(OFFSETS_TOPIC, p);
    if (!log) continue;
    const end = log.logEndOffset();
    const started = Date.now();
    while (log.highWatermark() < end) {
      if (!d.leading()) throw d.notCoordinator();
      if (Date.now() - started > LOAD_COMMIT_WAIT_MS) throw new Error(`${OFFSETS_TOPIC}/${p}: records up to ${end} not committed after ${LOAD_COMMIT_WAIT_MS} ms`);
      await new Promise((r) => setTimeout(r, 50).unref());
    }
    for (let next = log.logStartOffset(); next < end; ) {
      const records = await log.read(next, end, READ_CHUNK_RECORDS, READ_CHUNK_BYTES);
      if (records.length === 0) break;
      for (const r of records) yield r.payload;
      next = records[records.length - 1]!.offset + 1;
    }
  }
}

/** A scan from the log start (YAK keeps no time index yet): the first committed record at or after `ts`. */
async function offsetForTimestamp(logs: LogManager, topic: string, partition: number, ts: number): Promise<number> {
  const log = logs.partition(topic, partition);
  if (!log) return 0;
  const highWatermark = log.highWatermark();
  for (let next = log.logStartOffset(); next < highWatermark; ) {
    const records = await log.read(next, highWatermark, READ_CHUNK_RECORDS, READ_CHUNK_BYTES);
    if (records.length === 0) break;
    const hit = records.find((r) => r.timestamp >= ts);
    if (hit) return hit.offset;
    next = records[records.length - 1]!.offset + 1;
  }
  return highWatermark;
}
