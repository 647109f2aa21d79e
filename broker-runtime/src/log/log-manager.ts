import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { invalidRequest, topicExists, unknownTopic } from '../errors/errors.js';
import { fsyncDir, writeFileAtomic } from './atomic-file.js';
import { settleBounded } from './bounded.js';
import { jsonChecksum } from './checkpoint-checksum.js';
import { takeCleanShutdownMarker, writeCleanShutdownMarker } from './clean-shutdown.js';
import { DEFAULT_MAX_OPEN_FILES, FileHandleCache } from './file-handle-cache.js';
import { openPartitionLog } from './log-loader.js';
import type { FilePartitionLog } from './partition-log.js';
import { classifyStorageError, isStorageError } from './storage-error.js';
import { checkTopicConfig, type TopicConfig } from './topic-config.js';
import { TopicDigest } from './topic-digest.js';
import type { LogManager, LogOptions, PartitionLog, TopicInfo } from './types.js';

/** Topic metadata file in the data folder. */
export const TOPICS_FILE = 'topics.json';
/** Folder holding one `<topic>-<partition>` folder per partition. */
export const TOPICS_DIR = 'topics';
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
const MAX_PARTITIONS = 10_000;
const VERSION = 1;
/** How often the high-water marks are checkpointed when no fsync timer does it ('always', 'never'). */
const HIGH_WATERMARK_CHECKPOINT_MS = 5000;
/**
 * Partitions opened, flushed or closed at once. Each holds a few files open for a moment
 * (checkpoint temp files, folders to fsync): unbounded, 10,000 partitions would pass a 1,024
 * open-file limit. 32 keeps libuv's 4 file-system threads busy.
 */
const PARTITION_CONCURRENCY = 32;

/** `<dataDir>/topics/<topic>-<partition>`. */
export function partitionDir(dataDir: string, topic: string, partition: number): string {
  return join(dataDir, TOPICS_DIR, `${topic}-${partition}`);
}

function checkTopic(name: string, partitions: number): void {
  if (!TOPIC_NAME.test(name) || name === '.' || name === '..') throw invalidRequest(`topic name '${name}' must match ${TOPIC_NAME.source} (and not be '.' or '..')`);
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) throw invalidRequest(`partitions must be an integer in 1..${MAX_PARTITIONS}, got ${partitions}`);
}

async function readTopics(dataDir: string): Promise<TopicInfo[] | undefined> {
  const path = join(dataDir, TOPICS_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw cannotOpen(path, err);
  }
  const fail = (why: string) => new Error(`${path} is unreadable (${why}); fix or remove it (it is rebuilt from the partition folders when missing)`);
  let parsed: { version?: unknown; topics?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw fail('not valid JSON');
  }
  if (parsed.version !== VERSION || !Array.isArray(parsed.topics)) throw fail('not a version 1 topic list');
  // Refused, as an unreadable file is: a flipped digit in a partition count or a name would open
  // other partitions than the folder holds (and a leader tells its followers its topics).
  const { crc32 } = parsed as { crc32?: unknown };
  if (crc32 !== undefined && crc32 !== jsonChecksum(parsed.topics)) throw fail(`damaged: its checksum fails (crc32 ${JSON.stringify(crc32)}, the topics list gives ${jsonChecksum(parsed.topics)})`);
  const names = new Set<string>();
  return (parsed.topics as unknown[]).map((t) => {
    const { name, partitions, config } = (t ?? {}) as { name?: unknown; partitions?: unknown; config?: unknown };
    if (typeof name !== 'string' || typeof partitions !== 'number') throw fail(`bad entry ${JSON.stringify(t)}`);
    checkTopic(name, partitions);
    // Two entries would open the same partition folders twice.
    if (names.has(name)) throw fail(`topic ${name} is listed twice`);
    names.add(name);
    if (config === undefined) return { name, partitions };
    const checked = checkTopicConfig(config);
    if (typeof checked === 'string') throw fail(`topic ${name}: ${checked}`);
    return withConfig({ name, partitions }, checked);
  });
}

/**
 * A start-up failure that names what could not be opened. Node's errors for a file replaced by a
 * folder (EISDIR) or a dangling link name no path ("illegal operation on a directory, read"): the
 * broker stopped with that line alone, and nobody could tell which of thousands of files to look at.
 */
function cannotOpen(what: string, err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  const out = new Error(`cannot open ${what}: ${e?.message ?? String(err)}`, { cause: err });
  if (e?.code) (out as NodeJS.ErrnoException).code = e.code;
  return out;
}

/** One topic a line: a tenth of the indented form's bytes, still readable (the file is rewritten whole at each change). */
async function writeTopics(dataDir: string, topics: TopicInfo[]): Promise<void> {
  // The partition folders of topics being created are in topics/ by now (the loader leaves their
  // entries to us): one fsync makes them all durable before topics.json names them.
  await fsyncDir(join(dataDir, TOPICS_DIR));
  const lines = topics.map((t) => JSON.stringify(t));
  // The checksum over the list as JSON.stringify writes it (checkpoint-checksum.ts); a file without one (older) still loads.
  await writeFileAtomic(join(dataDir, TOPICS_FILE), `{"version":${VERSION},"topics":[\n${lines.join(',\n')}\n],"crc32":${jsonChecksum(topics)}}\n`);
}

/** The topic with `config` (left out when it has no keys, so topics.json stays as before retention). */
function withConfig(info: TopicInfo, config: TopicConfig | undefined): TopicInfo {
  const out: TopicInfo = { name: info.name, partitions: info.partitions };
  if (config && Object.keys(config).length > 0) out.config = { ...config };
  return out;
}

function copyInfo(info: TopicInfo): TopicInfo {
  return withConfig(info, info.config);
}

/** Topics seen as `<topic>-<n>` folders, when the metadata file is gone: partitions = highest n + 1. */
async function inferTopics(dataDir: string): Promise<TopicInfo[]> {
  let names: string[];
  try {
    names = await readdir(join(dataDir, TOPICS_DIR));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const counts = new Map<string, number>();
  for (const folder of names) {
    const m = /^(.+)-(\d+)$/.exec(folder);
    if (!m || !TOPIC_NAME.test(m[1]!)) continue;
    counts.set(m[1]!, Math.max(counts.get(m[1]!) ?? 0, Number(m[2]) + 1));
  }
  return [...counts].map(([name, partitions]) => ({ name, partitions }));
}

/**
 * Every partition log in a data folder (Kafka's LogManager) plus the topic metadata. Topics are
 * created concurrently: their partitions open side by side, and the changes that arrive while
 * topics.json is being written go to disk together in the next write (group commit), so creating
 * n topics costs about n / (creations in flight) rewrites, not n. Config changes are serialized.
 * Under fsync 'interval' a timer flushes logs with unsynced writes. The data folder's segment
 * files are open through one bounded FileHandleCache.
 */
export class FileLogManager implements LogManager {
  private readonly infos = new Map<string, TopicInfo>();
  private readonly logs = new Map<string, FilePartitionLog[]>();
  /** Every log, flat; rebuilt when a topic is added (read per replication frame and per tick). */
  private flat: FilePartitionLog[] = [];
  /** Topics being created: in the next topics.json write, not yet visible. */
  private readonly pendingTopics = new Map<string, { info: TopicInfo; done: Promise<void> }>();
  /** Config changes being written: in the next topics.json write, not yet visible. */
  private readonly pendingConfigs = new Map<string, TopicInfo>();
  private readonly topicsFile: GroupWriter;
  private readonly digest = new TopicDigest();
  /** Topic changes so far, in order: (change number, topic). */
  private readonly changes: { seq: number; name: string }[] = [];
  private metadataChain: Promise<unknown> = Promise.resolve();
  private readonly creations = new Set<Promise<unknown>>();
  private readonly timer: NodeJS.Timeout;
  private ticking: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private readonly options: LogOptions & { files: FileHandleCache };

  constructor(
    readonly dataDir: string,
    options: LogOptions,
    opened: { info: TopicInfo; logs: FilePartitionLog[] }[],
  ) {
    this.options = { ...options, files: options.files ?? new FileHandleCache(DEFAULT_MAX_OPEN_FILES) };
    for (const { info, logs } of opened) {
      this.infos.set(info.name, info);
      this.logs.set(info.name, logs);
      this.digest.set(info);
    }
    this.flat = [...this.logs.values()].flat();
    this.topicsFile = new GroupWriter(() => writeTopics(this.dataDir, this.topicsToWrite()));
    const interval = options.fsync === 'interval' ? options.fsyncIntervalMs : HIGH_WATERMARK_CHECKPOINT_MS;
    this.timer = setInterval(() => this.tick(), interval);
    this.timer.unref();
  }

  /** The open segment files of this data folder. */
  get files(): FileHandleCache {
    return this.options.files;
  }

  topics(): TopicInfo[] {
    return [...this.infos.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(copyInfo);
  }

  topic(name: string): TopicInfo | undefined {
    const info = this.infos.get(name);
    return info && copyInfo(info);
  }

  topicsVersion(): string {
    return this.digest.value();
  }

  topicsSeq(): number {
    return this.changes.length;
  }

  topicsChangedSince(seq: number): TopicInfo[] {
    const names = new Set<string>();
    for (let i = Math.max(0, seq); i < this.changes.length; i++) names.add(this.changes[i]!.name);
    return [...names].flatMap((n) => {
      const info = this.infos.get(n);
      return info ? [copyInfo(info)] : [];
    });
  }

  createTopic(name: string, partitions: number, config?: TopicConfig): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.closing) throw new Error('the log manager is closed');
      checkTopic(name, partitions);
      const pending = this.pendingTopics.get(name);
      if (pending) {
        // The same topic asked for twice at once (a produce and a POST /topics): one creation.
        await pending.done.catch(() => undefined);
        return run();
      }
      const existing = this.infos.get(name);
      if (existing) {
        if (existing.partitions === partitions) return;
        throw topicExists(name);
      }
      const info = withConfig({ name, partitions }, config);
      const entry = { info, done: Promise.resolve() };
      this.pendingTopics.set(name, entry);
      entry.done = this.create(info);
      try {
        await entry.done;
      } finally {
        if (this.pendingTopics.get(name) === entry) this.pendingTopics.delete(name);
      }
    };
    const creation = run();
    this.creations.add(creation);
    void creation.catch(() => undefined).finally(() => this.creations.delete(creation));
    return creation;
  }

  /** Open the partitions, then have topics.json name the topic (durably); only then is it visible. */
  private async create(info: TopicInfo): Promise<void> {
    const t0 = performance.now();
    try {
      const logs = await openTopic(this.dataDir, info.name, info.partitions, this.options);
      try {
        await this.topicsFile.write();
      } catch (err) {
        await Promise.allSettled(logs.map((l) => l.close()));
        throw err;
      }
      // Visible from here on, and in no later write twice (once as pending, once as visible).
      this.pendingTopics.delete(info.name);
      this.logs.set(info.name, logs);
      this.flat = this.flat.concat(logs);
    } catch (err) {
      const storage = classifyStorageError(err, `creating topic ${info.name}`);
      if (storage) this.options.storage?.failed(storage);
      throw storage ?? err;
    }
    this.infos.set(info.name, info);
    this.changed(info);
    this.options.logger?.(`[logs] created topic ${info.name} with ${info.partitions} partition(s) in ${Math.round(performance.now() - t0)} ms`);
  }

  setTopicConfig(name: string, config: TopicConfig): Promise<void> {
    return this.serialized(async () => {
      if (this.closing) throw new Error('the log manager is closed');
      const existing = this.infos.get(name);
      if (!existing) throw unknownTopic(name);
      const info = withConfig(existing, config);
      this.pendingConfigs.set(name, info);
      try {
        await this.topicsFile.write();
        this.infos.set(name, info);
      } finally {
        this.pendingConfigs.delete(name);
      }
      this.changed(info);
      this.options.logger?.(`[logs] topic ${name} config now ${JSON.stringify(info.config ?? {})}`);
    });
  }

  private changed(info: TopicInfo): void {
    this.digest.set(info);
    this.changes.push({ seq: this.changes.length + 1, name: info.name });
  }

  /** What topics.json must say now: the visible topics with the changes being written. */
  private topicsToWrite(): TopicInfo[] {
    const out: TopicInfo[] = [];
    for (const info of this.infos.values()) out.push(this.pendingConfigs.get(info.name) ?? info);
    for (const { info } of this.pendingTopics.values()) out.push(info);
    return out;
  }

  /** Config changes run one at a time. */
  private serialized<T>(run: () => Promise<T>): Promise<T> {
    const result = this.metadataChain.then(run);
    this.metadataChain = result.catch(() => undefined);
    return result;
  }

  partition(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(topic)?.[partition];
  }

  all(): PartitionLog[] {
    return this.flat;
  }

  /**
   * Flush and close every log, then leave the clean-shutdown marker (clean-shutdown.ts) when every
   * one of them closed cleanly: the next open may then trust the closed segments unread.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      await this.metadataChain;
      await Promise.allSettled([...this.creations]);
      await this.ticking;
      const logs = this.flat;
      const results = await settleBounded(logs, PARTITION_CONCURRENCY, (l) => l.close());
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      if (logs.every((l) => l.closedCleanly())) await writeCleanShutdownMarker(this.dataDir);
      else this.options.logger?.('[logs] not every partition closed cleanly: the next start checks every segment');
    })();
    return this.closing;
  }

  /** Flush (fsync policy 'interval') or write the due checkpoints (high-water mark, epoch cache) of every log that needs it; one tick at a time. */
  private tick(): void {
    if (this.ticking || this.closing) return;
    const flushAll = this.options.fsync === 'interval';
    const due = this.flat.filter((l) => (flushAll ? l.needsFlush() : l.checkpointsDue()));
    if (due.length === 0) return;
    this.ticking = settleBounded(due, PARTITION_CONCURRENCY, (l) =>
      (flushAll ? l.flush() : l.writeCheckpoints()).catch((err: unknown) => {
        // A storage fault is logged once per condition by the storage observer, not once per tick.
        if (isStorageError(err) && this.options.storage) return;
        this.options.logger?.(`[log ${l.topic}-${l.partition}] periodic flush failed: ${err instanceof Error ? err.message : String(err)}`);
      }),
    ).then(() => {
      this.ticking = undefined;
    });
  }
}

/**
 * Runs a write of the whole file for every caller that asks while none is running; callers that
 * ask while one is running share the next one (which sees every change made before it starts).
 */
class GroupWriter {
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;

  constructor(private readonly writeNow: () => Promise<void>) {}

  write(): Promise<void> {
    if (!this.running) {
      this.running = this.writeNow().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    this.next ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.write();
      });
    return this.next;
  }
}

async function openTopic(dataDir: string, name: string, partitions: number, options: LogOptions, cleanShutdown = false): Promise<FilePartitionLog[]> {
  const results = await settleBounded(Array.from({ length: partitions }, (_, p) => p), PARTITION_CONCURRENCY, (p) => openPartitionLog(partitionDir(dataDir, name, p), name, p, options, { cleanShutdown, parentSyncedByCaller: true }));
  const logs = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await settleBounded(logs, PARTITION_CONCURRENCY, (l) => l.close());
    throw failed.reason;
  }
  return logs;
}

/**
 * Open every partition of every topic in `dataDir` (recovering each), creating the folder if needed,
 * up to PARTITION_CONCURRENCY partitions at once. The clean-shutdown marker is taken first, before
 * anything is written: when it was there, closed segments are trusted without a CRC scan.
 * Recovery reports that repaired something are logged through options.logger.
 */
export async function openLogManager(dataDir: string, options: LogOptions): Promise<FileLogManager> {
  if (options.fsync === 'interval' && !(options.fsyncIntervalMs > 0)) throw new RangeError(`fsyncIntervalMs must be positive under fsync 'interval', got ${options.fsyncIntervalMs}`);
  const t0 = performance.now();
  const logger = options.logger;
  const withFiles = { ...options, files: options.files ?? new FileHandleCache(DEFAULT_MAX_OPEN_FILES) };
  await mkdir(join(dataDir, TOPICS_DIR), { recursive: true });
  const cleanShutdown = await takeCleanShutdownMarker(dataDir);
  let topics = await readTopics(dataDir);
  if (topics === undefined) {
    topics = await inferTopics(dataDir);
    if (topics.length > 0) logger?.(`[logs] ${TOPICS_FILE} is missing; rebuilt from the partition folders: ${topics.map((t) => `${t.name}(${t.partitions})`).join(', ')}`);
    await writeTopics(dataDir, topics);
  }
  const all = topics.flatMap((info) => Array.from({ length: info.partitions }, (_, p) => ({ info, p })));
  const results = await settleBounded(all, PARTITION_CONCURRENCY, ({ info, p }) => openPartitionLog(partitionDir(dataDir, info.name, p), info.name, p, withFiles, { cleanShutdown, parentSyncedByCaller: true }));
  const failedAt = results.findIndex((r) => r.status === 'rejected');
  if (failedAt >= 0) {
    await settleBounded(results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])), PARTITION_CONCURRENCY, (l) => l.close());
    const { info, p } = all[failedAt]!;
    throw cannotOpen(`partition ${info.name}/${p} (${partitionDir(dataDir, info.name, p)})`, (results[failedAt] as PromiseRejectedResult).reason);
  }
  // Partition folders the opening created (missing ones of listed topics): their entries, at once.
  if (results.some((r) => r.status === 'fulfilled' && r.value.recovery.state === 'created')) await fsyncDir(join(dataDir, TOPICS_DIR));
  const opened: { info: TopicInfo; logs: FilePartitionLog[] }[] = [];
  let at = 0;
  for (const info of topics) {
    const logs = results.slice(at, at + info.partitions).map((r) => (r as PromiseFulfilledResult<FilePartitionLog>).value);
    at += info.partitions;
    opened.push({ info, logs });
  }
  let partitions = 0;
  for (const { logs } of opened) {
    for (const l of logs) {
      partitions++;
      const { truncatedBytes, rebuiltIndexes } = l.recovery;
      if (truncatedBytes > 0 || rebuiltIndexes > 0) {
        logger?.(`[logs] recovered ${l.topic}-${l.partition}: cut ${truncatedBytes} byte(s), rebuilt ${rebuiltIndexes} index(es); log end ${l.logEndOffset()}, high-water mark ${l.highWatermark()}`);
      }
    }
  }
  const how = cleanShutdown ? 'after a clean shutdown: closed segments trusted, last segments checked' : 'every segment checked (no clean-shutdown marker)';
  logger?.(`[logs] opened ${partitions} partition(s) of ${opened.length} topic(s) in ${dataDir} in ${Math.round(performance.now() - t0)} ms, ${how}`);
  return new FileLogManager(dataDir, withFiles, opened);
}
