import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMP_SUFFIX, fsyncDir } from './atomic-file.js';
import { FileHandleCache } from './file-handle-cache.js';
import { readHighWatermarkCheckpoint, type HighWatermarkCheckpoint } from './high-watermark.js';
import { checkIntegrity, type IntegrityResult } from './integrity.js';
import { EPOCH_CHECKPOINT_FILE, LeaderEpochCache, reconcileEpochCache } from './leader-epoch-cache.js';
import { LogSegment, parseSegmentFileName, segmentFileName, type RecoveredSegment } from './log-segment.js';
import { bareLogStartAtOpen, logStartAtOpen, readLogStartCheckpoint, segmentsBelowLogStart, writeLogStart } from './log-start.js';
import { findLostRecords, readEndEvidence, removeOrphanIndexes, type KnownCheckpoints, type LostRecords } from './lost-records.js';
import { FilePartitionLog, checkLogOptions } from './partition-log.js';
import type { LoadState, LogOptions, RecoveryReport } from './types.js';
import { UncleanMarker } from './unclean-marker.js';

/**
 * The log loader (Kafka's LogLoader): the one place that turns a partition folder into an open
 * FilePartitionLog. It reads the segments, checks their checksums, cuts a torn tail, reads the
 * high-water mark checkpoint, the log start offset checkpoint and the leader-epoch cache, and
 * decides whether the partition is clean — whether this replica may hold every record it once
 * acknowledged, or must re-fetch from a leader before it may lead (the unclean mark).
 *
 * Bad content on disk never crashes the broker here: a contradictory checkpoint is read as
 * evidence (a high-water mark past the log end means committed records were lost: the partition
 * is marked unclean and the mark clamped), an unreadable one — or one whose checksum fails
 * (checkpoint-checksum.ts): a flipped digit must not pass for such evidence — as missing, with a
 * warning naming the file.
 */

export interface OpenOptions {
  /**
   * The data folder was closed cleanly (clean-shutdown.ts): closed segments are trusted without
   * the CRC scan of every record (as Kafka does after a clean shutdown).
   */
  cleanShutdown?: boolean;
  /**
   * The caller makes the entry of a folder this call creates durable itself (the log manager: one
   * fsync of the topics folder for every partition created, not one each). Else the loader fsyncs
   * the parent folder after creating one, under a durable fsync policy.
   */
  parentSyncedByCaller?: boolean;
}

/** The checkpoints of a partition folder as written (unclamped), each read once per open. */
interface Checkpoints {
  logStart: number;
  /** `bare`: a number without its checksum, acted on only where the segments agree (bareLogStartAtOpen). */
  logStartForm: 'checked' | 'bare' | 'none';
  /** As written (0 when missing or damaged), and its form: a damaged one is no evidence of anything. */
  highWatermark: HighWatermarkCheckpoint;
  /** As LeaderEpochCache.load: the cache, or why it cannot be used. */
  epochCache: LeaderEpochCache | string;
}

/** What the high-water mark checkpoint says once held against the log end (the invariant: high-water mark <= log end offset). */
export type HighWatermarkAtOpen =
  | { kind: 'within-log'; highWatermark: number }
  /** The checkpoint is past the log end: committed records below it are gone (the storage faults' "checkpoint-ahead"). */
  | { kind: 'ahead-of-log'; highWatermark: number; checkpoint: number };

/**
 * Pure: the high-water mark a log opens with. A checkpoint past the log end breaks the invariant
 * on disk, never in memory: it is clamped to the log end and reported, and the loader has already
 * marked the partition unclean for it (findLostRecords reads the same checkpoint as evidence).
 */
export function highWatermarkAtOpen(checkpoint: number, logEndOffset: number): HighWatermarkAtOpen {
  if (checkpoint <= logEndOffset) return { kind: 'within-log', highWatermark: checkpoint };
  return { kind: 'ahead-of-log', highWatermark: logEndOffset, checkpoint };
}

/** Pure: the loader's verdict on a folder it opened (see LoadState). */
export function loadState(found: { truncatedBytes: number; rebuiltIndexes: number; unclean: boolean }): LoadState {
  if (found.unclean) return 'unclean';
  return found.truncatedBytes > 0 || found.rebuiltIndexes > 0 ? 'recovered' : 'clean';
}

/**
 * Open (creating if needed) the log in `dir`, in passes: (1) drop temp files; (2) check every
 * segment's records (checkIntegrity: damage to committed data marks the partition unclean);
 * (3) look for evidence of records lost past the log end (markLostRecords); (4) open closed
 * segments trusting their data and recover the last one (cut a torn or corrupt tail); (5) reconcile
 * the epoch cache with the records; (6) hold the high-water mark checkpoint against the log end
 * (highWatermarkAtOpen); (7) the log start offset (log-start.ts): segments wholly below its
 * checkpoint are deleted before pass 2 (an interrupted deletion), a log that ends at or below it
 * restarts empty there (an interrupted restart), and a first segment above it is reported as data loss.
 */
export async function openPartitionLog(dir: string, topic: string, partition: number, options: LogOptions, open: OpenOptions = {}): Promise<FilePartitionLog> {
  checkLogOptions(options);
  // One cache per broker (log-manager.ts); a log opened by itself gets its own, unbounded.
  const withFiles = { ...options, files: options.files ?? new FileHandleCache(Number.MAX_SAFE_INTEGER) };
  const log = (line: string) => options.logger?.(`[log ${topic}-${partition}] ${line}`);
  const warn = (line: string) => options.logger?.(`[log ${topic}-${partition}] ${line}`, 'warn');
  const names = await listOrCreateFolder(dir, withFiles.fsync !== 'never' && open.parentSyncedByCaller !== true);
  if (names === 'created') return createdPartitionLog(dir, topic, partition, withFiles);
  return loadExistingLog(dir, names, topic, partition, withFiles, open, log, warn);
}

/**
 * The folder's file names, or 'created' when this call created it. A created folder's entry is made
 * durable (its parent fsynced) when `syncParent`: a record acknowledged into the partition later
 * must not lose its folder to a power cut (the files in it are the log's to sync: createdPartitionLog).
 */
async function listOrCreateFolder(dir: string, syncParent: boolean): Promise<string[] | 'created'> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if ((await mkdir(dir, { recursive: true })) === undefined) return readdir(dir); // created meanwhile by someone else: open what is there
  if (syncParent) await fsyncDir(join(dir, '..'));
  return 'created';
}

/**
 * The log of a partition folder this call just created: empty, with nothing on disk to read or
 * check. Its first segment is created now, so the first append only writes. The folder is not
 * fsynced here: lost to a power cut while empty, it is created again just the same; the log
 * fsyncs it with the first fsync of records (FilePartitionLog's folderSynced).
 */
async function createdPartitionLog(dir: string, topic: string, partition: number, options: LogOptions & { files: FileHandleCache }): Promise<FilePartitionLog> {
  const segment = await LogSegment.create(dir, 0, options.indexIntervalBytes, options.files);
  // No checkpoint file yet reads at the next open as an empty cache (reconcileEpochCache).
  const cache = new LeaderEpochCache(join(dir, EPOCH_CHECKPOINT_FILE));
  return new FilePartitionLog(topic, partition, dir, { truncatedBytes: 0, rebuiltIndexes: 0, state: 'created' }, options, [segment], cache, 0, 0, UncleanMarker.none(dir), 0, false);
}

async function loadExistingLog(
  dir: string,
  names: string[],
  topic: string,
  partition: number,
  options: LogOptions & { files: FileHandleCache },
  open: OpenOptions,
  log: (line: string) => void,
  warn: (line: string) => void,
): Promise<FilePartitionLog> {
  for (const name of names) {
    if (name.endsWith(TEMP_SUFFIX)) await unlink(join(dir, name)).catch(() => undefined);
  }
  const listed = names.map(parseSegmentFileName).filter((b): b is number => b !== undefined).sort((a, b) => a - b);
  const checkpoints = await readCheckpoints(dir, warn);
  // A bare checkpoint deletes nothing on its own say: it may be a damaged number.
  const found = checkpoints.logStartForm === 'bare' ? listed : await dropSegmentsBelowLogStart(dir, listed, checkpoints.logStart, log);
  const integrity = await checkIntegrity(dir, found, log, open.cleanShutdown === true, checkpoints.highWatermark, warn);
  // A cut after damage deleted the later segments, index files too: the listing still names them,
  // and pass 3 reported each as "missing (its index is still there)", a loss that was the cut's own.
  const cut = new Set(found.filter((base) => !integrity.bases.includes(base)));
  const namesLeft = cut.size === 0 ? names : names.filter((name) => !cut.has(Number(/^(\d{20})\./.exec(name)?.[1] ?? -1)));
  await markLostRecords(dir, namesLeft, integrity, log, { highWatermarkCheckpoint: checkpoints.highWatermark.value, epochCache: checkpoints.epochCache });

  const { segments, last, rebuiltIndexes, createdSegment } = await openSegments(dir, integrity.bases, options, log);
  const logEndOffset = last.nextOffset;
  try {
    const cache = await reconcileEpochCache(
      dir,
      {
        logEndOffset,
        lastSegmentBase: last.segment.baseOffset,
        lastSegmentEpochs: last.epochs,
        olderSegmentEpochs: () => Promise.all(segments.slice(0, -1).map((s) => s.epochChanges())),
        ...(integrity.closedSegmentEpochs !== null && integrity.closedSegmentEpochs.length === segments.length - 1 && { scannedOlder: { firstSegmentBase: segments[0]!.baseOffset, epochs: integrity.closedSegmentEpochs } }),
      },
      log,
      checkpoints.epochCache,
      warn,
    );
    const highWatermark = highWatermarkAtOpen(checkpoints.highWatermark.value, logEndOffset);
    if (highWatermark.kind === 'ahead-of-log') log(`high-water mark checkpoint ${highWatermark.checkpoint} is past the log end ${logEndOffset}; clamped`);
    let checkpoint = checkpoints.logStart;
    if (checkpoints.logStartForm === 'bare') {
      const bare = bareLogStartAtOpen(checkpoint, segments.map((s) => s.baseOffset), logEndOffset);
      if (!bare.trusted) log(`the log start offset checkpoint ${checkpoint} has no checksum (an old format) and disagrees with the segments (${segments[0]!.baseOffset}..${logEndOffset}): not acted on, keeping every segment; the log starts at ${bare.logStart}`);
      checkpoint = bare.logStart;
    }
    const start = logStartAtOpen(checkpoint, segments[0]!.baseOffset, logEndOffset);
    if (start.kind === 'missing-front') {
      // Never to lead while they are missing: a leader's log start is followed by every replica,
      // which would delete its own copies of them (replication/log-start.ts).
      const why = `records ${start.lostFrom}..${start.logStart - 1} are missing (the first segment starts at ${start.logStart}, the log start offset is ${start.lostFrom}) and were not deleted by retention`;
      log(`DATA LOSS, UNCLEAN: ${why}; the log now starts at ${start.logStart}, and this replica does not lead until a leader's log start has passed them (where no replica has them any more — a single broker whose log start checkpoint was lost after retention — --unclean-election lets it lead as it is)`);
      await integrity.marker.set(logEndOffset, logEndOffset, why, start.logStart);
    }
    const truncatedBytes = last.truncatedBytes + integrity.cutBytes;
    const recovery: RecoveryReport = { truncatedBytes, rebuiltIndexes, state: loadState({ truncatedBytes, rebuiltIndexes, unclean: integrity.marker.isSet() }) };
    // A log start inside the log counts as committed: the high-water mark is never below it.
    const logStart = start.kind === 'restart' ? 0 : start.logStart;
    const openingHighWatermark = Math.max(highWatermark.highWatermark, start.kind === 'restart' ? 0 : Math.min(start.logStart, logEndOffset));
    const opened = new FilePartitionLog(topic, partition, dir, recovery, options, segments, cache, logEndOffset, openingHighWatermark, integrity.marker, logStart, !createdSegment);
    if (start.kind === 'restart') {
      log(`every record left ends below the log start offset ${start.logStart}: finishing an interrupted restart of the log there`);
      await opened.restartAt(start.logStart);
    }
    // Replaced at the next flush, so the damage is not reported again at every start.
    if (checkpoints.highWatermark.form === 'damaged') opened.highWatermarkCheckpointDue();
    // The value settled on, in the checked form: a bare number is never read again.
    if (checkpoints.logStartForm === 'bare') await writeLogStart(dir, opened.logStartOffset(), options.fsync !== 'never');
    return opened;
  } catch (err) {
    for (const s of segments) await s.close();
    throw err;
  }
}

/** Each checkpoint file read once; `warn` names a damaged one. */
async function readCheckpoints(dir: string, warn: (line: string) => void): Promise<Checkpoints> {
  const logStart = await readLogStartCheckpoint(dir, warn);
  return {
    logStart: logStart.value,
    logStartForm: logStart.form,
    // Unclamped: the integrity check and the search for lost records want it as written.
    highWatermark: await readHighWatermarkCheckpoint(dir, warn),
    epochCache: await LeaderEpochCache.load(dir),
  };
}

/** Pass 4: open the closed segments (data trusted) and recover the last one; a folder without segments gets an empty one at 0. */
async function openSegments(dir: string, bases: readonly number[], options: LogOptions & { files: FileHandleCache }, log: (line: string) => void): Promise<{ segments: LogSegment[]; last: RecoveredSegment; rebuiltIndexes: number; createdSegment: boolean }> {
  const segments: LogSegment[] = [];
  let rebuiltIndexes = 0;
  try {
    for (let i = 0; i + 1 < bases.length; i++) {
      const opened = await LogSegment.openClosed(dir, bases[i]!, bases[i + 1]!, options.indexIntervalBytes, options.files, log);
      segments.push(opened.segment);
      if (opened.rebuiltIndex) rebuiltIndexes++;
    }
    const lastBase = bases[bases.length - 1];
    const last: RecoveredSegment =
      lastBase === undefined
        ? { segment: await LogSegment.create(dir, 0, options.indexIntervalBytes, options.files), nextOffset: 0, truncatedBytes: 0, rebuiltIndex: false, epochs: [] }
        : await LogSegment.recover(dir, lastBase, options.indexIntervalBytes, options.files, log);
    segments.push(last.segment);
    if (last.rebuiltIndex) rebuiltIndexes++;
    return { segments, last, rebuiltIndexes, createdSegment: lastBase === undefined };
  } catch (err) {
    for (const s of segments) await s.close();
    throw err;
  }
}

/**
 * Pass 1b: segments wholly below the checkpointed log start offset were being deleted (retention,
 * or a restart at the leader's log start) when the broker stopped: finish the job, so the integrity
 * check never sees the gap they leave as damage. Returns the base offsets left.
 */
async function dropSegmentsBelowLogStart(dir: string, bases: number[], logStart: number, log: (line: string) => void): Promise<number[]> {
  const below = segmentsBelowLogStart(bases, logStart);
  if (below.length === 0) return bases;
  for (const base of below) {
    await unlink(join(dir, segmentFileName(base, '.log'))).catch(() => undefined);
    await unlink(join(dir, segmentFileName(base, '.index'))).catch(() => undefined);
  }
  await fsyncDir(dir);
  log(`deleted ${below.length} segment(s) left below the log start offset ${logStart} (a deletion interrupted by a stop)`);
  return bases.slice(below.length);
}

/**
 * Pass 3: records lost past the log end (a missing or emptied last segment, a lost tail, a
 * high-water mark checkpoint ahead of the log end) leave evidence behind that recovery would
 * otherwise tidy away; mark the partition unclean, durably, before recovery changes any of it.
 * See findLostRecords. Returns what was found.
 */
async function markLostRecords(dir: string, names: readonly string[], integrity: IntegrityResult, log: (line: string) => void, known: KnownCheckpoints): Promise<LostRecords | undefined> {
  const evidence = await readEndEvidence(dir, names, integrity.bases, known, integrity.logEnd);
  const lost = findLostRecords(evidence, integrity.logEnd);
  if (!lost) return undefined;
  const why = `records past the log end ${integrity.logEnd} are lost: ${lost.reasons.join('; ')}`;
  log(`UNCLEAN: ${why}; keeping this replica from leading until it has re-fetched up to offset ${lost.until} from the leader`);
  await integrity.marker.set(integrity.logEnd, lost.until, why);
  await removeOrphanIndexes(dir, evidence);
  return lost;
}
