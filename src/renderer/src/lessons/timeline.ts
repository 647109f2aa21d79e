/**
 * What a lesson records: each thing that really happened, when, and who said so. A lesson never
 * writes down what it expected — only answers it got (from a broker, through the supervisor's
 * poll of the brokers' /health, /topics and /metadata/cluster, or the supervisor's event log).
 */

export type LessonId = 'routing' | 'failover' | 'zombie' | 'hwm' | 'isr' | 'diverge' | 'groups';

/** Who reported the fact: a broker's own answer, the supervisor's view, or the browser's computation. */
export type EntrySource = 'broker' | 'cluster' | 'browser' | 'supervisor';

export interface TimelineEntry {
  at: number;
  /** Milliseconds since the lesson started. */
  sinceStartMs: number;
  /** A short stable name a test can look for: 'predicted', 'committed', 'refused', 'new-leader', ... */
  kind: string;
  source: EntrySource;
  text: string;
  tone: 'ok' | 'bad' | 'info';
  broker?: string;
  epoch?: number;
  partition?: number;
  offset?: number;
  /** A consumer group's generation, as its coordinator reported it. */
  generation?: number;
  /** Which record the entry is about (`<run tag>#<n>`, as in the record's payload), when it is about one. */
  ref?: string;
}

export interface LessonRun {
  id: LessonId;
  state: 'running' | 'done' | 'failed';
  startedAt: number;
  entries: TimelineEntry[];
  /** The measured outcome in one short paragraph, written from the entries once the run is over. */
  outcome: string | null;
  error: string | null;
  /** Lesson 6: the two logs side by side, offset by offset. */
  diff: LogDiffRow[] | null;
}

export interface LogDiffRow {
  offset: number;
  /** What the old leader held at that offset before it rejoined (null: nothing). */
  before: string | null;
  /** What the log holds there now, as the leader serves it (null: nothing). */
  after: string | null;
  verdict: 'kept' | 'cut' | 'replaced' | 'new';
}

export type EntryInput = Omit<TimelineEntry, 'at' | 'sinceStartMs'> & { at?: number };

/** Appends entries to a run, keeping them in time order (answers can arrive out of order). */
export class TimelineRecorder {
  /** `run` should be reactive: the pane redraws on each entry. */
  constructor(private readonly run: LessonRun) {}

  add(entry: EntryInput): TimelineEntry {
    const at = entry.at ?? Date.now();
    const full: TimelineEntry = { ...entry, at, sinceStartMs: Math.max(0, at - this.run.startedAt) };
    const entries = [...this.run.entries, full].sort((a, b) => a.at - b.at);
    this.run.entries = entries;
    return full;
  }
}
