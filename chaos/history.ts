import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';

/**
 * The history of a run, Jepsen style: every client operation as an `invoke` followed by its
 * completion — `ok` (it happened), `fail` (it certainly did not happen), or `info` (unknown: a
 * timeout, a lost connection, a 503/504) — plus the nemesis' actions and the final reads.
 * Written as JSON lines while the run goes, so a crashed run still leaves its history.
 */
export type OpType = 'invoke' | 'ok' | 'fail' | 'info';

/** A produced record as the history names it: `<client id>:<sequence>`, and where it went. */
export interface RecordRef {
  k: string;
  p: number;
  /** Offset, once acknowledged. */
  o?: number;
}

export interface ProduceOp {
  f: 'produce';
  t: number;
  process: string;
  type: OpType;
  value: RecordRef[];
  broker?: string;
  error?: string;
}

export interface ReadOp {
  f: 'read';
  t: number;
  /** When the read was sent. */
  t0: number;
  process: string;
  type: 'ok' | 'info';
  p: number;
  from: number;
  broker: string;
  hwm?: number;
  /** [offset, key] of every record returned. */
  value?: [number, string][];
  error?: string;
}

export interface NemesisOp {
  f: 'start' | 'heal' | 'recovered' | 'not-recovered' | 'crash' | 'skip';
  t: number;
  process: 'nemesis';
  type: 'info';
  fault?: string;
  target?: string;
  value?: Record<string, unknown>;
}

export interface FinalReadOp {
  f: 'final-read';
  t: number;
  process: 'final';
  type: 'ok';
  broker: string;
  p: number;
  hwm: number;
  leo: number;
  /** Keys by offset, from 0. */
  value: string[];
}

export interface RunOp {
  f: 'run';
  t: number;
  process: 'harness';
  type: 'info';
  value: Record<string, unknown>;
}

/** A group consumer learned its partitions for a generation (its onAssign). */
export interface GroupAssignOp {
  f: 'group-assign';
  t: number;
  process: string;
  type: 'info';
  member: string;
  generation: number;
  value: number[];
}

/** A group consumer's handler finished these records ([offset, key]) of partition p. */
export interface GroupProcessOp {
  f: 'group-process';
  t: number;
  process: string;
  type: 'ok';
  generation: number;
  p: number;
  value: [number, string][];
}

/** The group's committed offsets as the coordinator described them ([partition, offset]). */
export interface GroupOffsetsOp {
  f: 'group-offsets';
  t: number;
  process: string;
  type: 'ok';
  value: [number, number][];
}

/** A group member's commit: sent at t0 with its generation; ok (accepted), fail (refused, `error` is the code) or info (unknown). */
export interface GroupCommitOp {
  f: 'group-commit';
  t: number;
  t0: number;
  process: string;
  type: 'ok' | 'fail' | 'info';
  member: string;
  generation: number;
  /** [partition, offset] committed. */
  value: [number, number][];
  error?: string;
}

export type Op = ProduceOp | ReadOp | NemesisOp | FinalReadOp | RunOp | GroupAssignOp | GroupProcessOp | GroupOffsetsOp | GroupCommitOp;
type NoTime<T> = T extends unknown ? Omit<T, 't'> : never;
/** An operation as a caller hands it over: the history stamps the time. */
export type OpInput = NoTime<Op>;

export class History {
  readonly ops: Op[] = [];
  private readonly out: WriteStream;
  private readonly t0 = performance.now();

  constructor(readonly path: string) {
    this.out = createWriteStream(path);
    this.out.on('error', () => {});
  }

  /** Milliseconds since the run began (0.1 ms resolution). */
  now(): number {
    return Math.round((performance.now() - this.t0) * 10) / 10;
  }

  add<T extends OpInput>(op: T): T & { t: number } {
    const full = { t: this.now(), ...op } as T & { t: number };
    this.ops.push(full as unknown as Op);
    this.out.write(JSON.stringify(full) + '\n');
    return full;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.out.end(() => resolve()));
  }

  static async load(path: string): Promise<Op[]> {
    const text = await readFile(path, 'utf8');
    return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Op);
  }
}
