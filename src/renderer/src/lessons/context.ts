import type { ClusterApi, ClusterEvent, ClusterSnapshot } from '../../../shared/cluster-api';
import { toApiError } from '../bridge';
import type { EntryInput, LogDiffRow, TimelineEntry } from './timeline';

/** What a lesson may use: the typed cluster API, the latest pushed snapshot, and its recorder. */
export interface LessonContext {
  api: ClusterApi;
  /** The latest snapshot the supervisor pushed (its poll of every broker's own API). */
  snapshot(): ClusterSnapshot | null;
  /** Resolves with the first snapshot (the current one included) that satisfies `test`. */
  waitFor(test: (s: ClusterSnapshot) => boolean, timeoutMs: number, what: string): Promise<ClusterSnapshot>;
  /** Calls `listener` with every snapshot pushed from now on; returns a function that stops it. */
  watchSnapshots(listener: (s: ClusterSnapshot | null) => void): () => void;
  /** Cluster events since the lesson started (elections, ISR changes, signals), oldest first. */
  eventsSinceStart(): ClusterEvent[];
  record(entry: EntryInput): TimelineEntry;
  setDiff(rows: LogDiffRow[]): void;
}

export class LessonAbort extends Error {
  override readonly name = 'LessonAbort';
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A short unique tag for this run's records, so a record can be told apart from any earlier run's. */
export function runTag(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
}

/** The topic a lesson writes to, made with `partitions` partitions when it does not exist yet. */
export async function ensureTopic(ctx: LessonContext, name: string, partitions: number): Promise<number> {
  const listed = (await ctx.api.listTopics()).find((t) => t.name === name);
  if (listed) return listed.partitions.length;
  try {
    await ctx.api.createTopic(name, partitions);
  } catch (error) {
    // Another window (or a test) may have created it meanwhile; anything else is a real failure.
    if (toApiError(error).code !== 'TOPIC_EXISTS') throw error;
  }
  const again = (await ctx.api.listTopics()).find((t) => t.name === name);
  return again?.partitions.length ?? partitions;
}

/** The broker leading now, from the brokers' own /health as the supervisor last saw it. */
export function currentLeader(s: ClusterSnapshot | null): { id: string; epoch: number } | null {
  if (!s?.leader) return null;
  const b = s.brokers.find((x) => x.id === s.leader!.id);
  return { id: s.leader.id, epoch: b?.epoch ?? s.epoch };
}
