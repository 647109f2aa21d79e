import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { invalidRequest, topicExists, unknownTopic } from '../errors/errors.js';
import { writeFileAtomic } from './atomic-file.js';
import { openPartitionLog, type FilePartitionLog } from './partition-log.js';
import { classifyStorageError, isStorageError } from './storage-error.js';
import { checkTopicConfig, type TopicConfig } from './topic-config.js';
import type { LogManager, LogOptions, PartitionLog, TopicInfo } from './types.js';

/** Topic metadata file in the data folder. */
export const TOPICS_FILE = 'topics.json';
/** Folder holding one `<topic>-<partition>` folder per partition. */
export const TOPICS_DIR = 'topics';
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
const MAX_PARTITIONS = 10_000;
const VERSION = 1;
/** How often the high-water marks are checkpointed when no fsync timer does it ('always', 'never'). */
const HWM_CHECKPOINT_MS = 5000;

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
    throw err;
  }
  const fail = (why: string) => new Error(`${path} is unreadable (${why}); fix or remove it (it is rebuilt from the partition folders when missing)`);
  let parsed: { version?: unknown; topics?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw fail('not valid JSON');
  }
  if (parsed.version !== VERSION || !Array.isArray(parsed.topics)) throw fail('not a version 1 topic list');
  return (parsed.topics as unknown[]).map((t) => {
    const { name, partitions, config } = (t ?? {}) as { name?: unknown; partitions?: unknown; config?: unknown };
    if (typeof name !== 'string' || typeof partitions !== 'number') throw fail(`bad entry ${JSON.stringify(t)}`);
    checkTopic(name, partitions);
    if (config === undefined) return { name, partitions };
    const checked = checkTopicConfig(config);
    if (typeof checked === 'string') throw fail(`topic ${name}: ${checked}`);
    return withConfig({ name, partitions }, checked);
  });
}

async function writeTopics(dataDir: string, topics: TopicInfo[]): Promise<void> {
  await writeFileAtomic(join(dataDir, TOPICS_FILE), JSON.stringify({ version: VERSION, topics }, null, 2) + '\n');
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
 * Every partition log in a data folder (Kafka's LogManager) plus the topic metadata. Topic changes
 * are serialized; under fsync 'interval' a timer flushes logs with unsynced writes.
 */
export class FileLogManager implements LogManager {
  private readonly infos = new Map<string, TopicInfo>();
  private readonly logs = new Map<string, FilePartitionLog[]>();
  private metadataChain: Promise<unknown> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private ticking: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    readonly dataDir: string,
    private readonly options: LogOptions,
    opened: { info: TopicInfo; logs: FilePartitionLog[] }[],
  ) {
    for (const { info, logs } of opened) {
      this.infos.set(info.name, info);
      this.logs.set(info.name, logs);
    }
    const interval = options.fsync === 'interval' ? options.fsyncIntervalMs : HWM_CHECKPOINT_MS;
    this.timer = setInterval(() => this.tick(), interval);
    this.timer.unref();
  }

  topics(): TopicInfo[] {
    return [...this.infos.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(copyInfo);
  }

  topic(name: string): TopicInfo | undefined {
    const info = this.infos.get(name);
    return info && copyInfo(info);
  }

  createTopic(name: string, partitions: number, config?: TopicConfig): Promise<void> {
    const run = async () => {
      if (this.closing) throw new Error('the log manager is closed');
      checkTopic(name, partitions);
      const existing = this.infos.get(name);
      if (existing) {
        if (existing.partitions === partitions) return;
        throw topicExists(name);
      }
      const info = withConfig({ name, partitions }, config);
      try {
        const logs = await openTopic(this.dataDir, name, partitions, this.options);
        try {
          await writeTopics(this.dataDir, [...this.infos.values(), info]);
        } catch (err) {
          await Promise.allSettled(logs.map((l) => l.close()));
          throw err;
        }
        this.logs.set(name, logs);
      } catch (err) {
        const storage = classifyStorageError(err, `creating topic ${name}`);
        if (storage) this.options.storage?.failed(storage);
        throw storage ?? err;
      }
      this.infos.set(name, info);
      this.options.logger?.(`[logs] created topic ${name} with ${partitions} partition(s)`);
    };
    return this.serialized(run);
  }

  setTopicConfig(name: string, config: TopicConfig): Promise<void> {
    return this.serialized(async () => {
      if (this.closing) throw new Error('the log manager is closed');
      const existing = this.infos.get(name);
      if (!existing) throw unknownTopic(name);
      const info = withConfig(existing, config);
      await writeTopics(this.dataDir, [...this.infos.values()].map((t) => (t.name === name ? info : t)));
      this.infos.set(name, info);
      this.options.logger?.(`[logs] topic ${name} config now ${JSON.stringify(info.config ?? {})}`);
    });
  }

  /** Topic changes run one at a time. */
  private serialized<T>(run: () => Promise<T>): Promise<T> {
    const result = this.metadataChain.then(run);
    this.metadataChain = result.catch(() => undefined);
    return result;
  }

  partition(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(topic)?.[partition];
  }

  all(): PartitionLog[] {
    return this.allLogs();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      await this.metadataChain;
      await this.ticking;
      const results = await Promise.allSettled(this.allLogs().map((l) => l.close()));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    })();
    return this.closing;
  }

  private allLogs(): FilePartitionLog[] {
    return [...this.logs.values()].flat();
  }

  /** Flush (fsync policy 'interval') or checkpoint the HWM of every log that needs it; one tick at a time. */
  private tick(): void {
    if (this.ticking || this.closing) return;
    const flushAll = this.options.fsync === 'interval';
    const due = this.allLogs().filter((l) => (flushAll ? l.needsFlush() : l.needsHighWatermarkCheckpoint()));
    if (due.length === 0) return;
    this.ticking = Promise.all(
      due.map((l) =>
        (flushAll ? l.flush() : l.checkpointHighWatermark()).catch((err: unknown) => {
          // A storage fault is logged once per condition by the storage observer, not once per tick.
          if (isStorageError(err) && this.options.storage) return;
          this.options.logger?.(`[log ${l.topic}-${l.partition}] periodic flush failed: ${err instanceof Error ? err.message : String(err)}`);
        }),
      ),
    ).then(() => {
      this.ticking = undefined;
    });
  }
}

async function openTopic(dataDir: string, name: string, partitions: number, options: LogOptions): Promise<FilePartitionLog[]> {
  const results = await Promise.allSettled(Array.from({ length: partitions }, (_, p) => openPartitionLog(partitionDir(dataDir, name, p), name, p, options)));
  const logs = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.allSettled(logs.map((l) => l.close()));
    throw failed.reason;
  }
  return logs;
}

/**
 * Open every partition of every topic in `dataDir` (recovering each), creating the folder if needed.
 * Recovery reports that repaired something are logged through options.logger.
 */
export async function openLogManager(dataDir: string, options: LogOptions): Promise<FileLogManager> {
  if (options.fsync === 'interval' && !(options.fsyncIntervalMs > 0)) throw new RangeError(`fsyncIntervalMs must be positive under fsync 'interval', got ${options.fsyncIntervalMs}`);
  const logger = options.logger;
  await mkdir(join(dataDir, TOPICS_DIR), { recursive: true });
  let topics = await readTopics(dataDir);
  if (topics === undefined) {
    topics = await inferTopics(dataDir);
    if (topics.length > 0) logger?.(`[logs] ${TOPICS_FILE} is missing; rebuilt from the partition folders: ${topics.map((t) => `${t.name}(${t.partitions})`).join(', ')}`);
    await writeTopics(dataDir, topics);
  }
  const opened: { info: TopicInfo; logs: FilePartitionLog[] }[] = [];
  try {
    for (const info of topics) opened.push({ info, logs: await openTopic(dataDir, info.name, info.partitions, options) });
  } catch (err) {
    await Promise.allSettled(opened.flatMap((o) => o.logs.map((l) => l.close())));
    throw err;
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
  logger?.(`[logs] opened ${partitions} partition(s) of ${opened.length} topic(s) in ${dataDir}`);
  return new FileLogManager(dataDir, options, opened);
}
