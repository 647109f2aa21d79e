import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, writeFileAtomic } from './atomic-file.js';

/** File in a partition folder that exists while the partition is unclean. */
export const UNCLEAN_FILE = 'unclean';

export interface UncleanState {
  /** Offset where the damaged data was cut. */
  cutAt: number;
  /** The log must hold records up to here again, re-fetched from a leader, before the mark is lifted. */
  until: number;
  reason: string;
  /**
   * Records missing at the *front* of the log (its first segment gone, not by retention): they
   * never come back by appending, so the mark stays until a leader's log start reaches this offset
   * (retention dropped them there too). Absent when only the end was damaged.
   */
  logStartUntil?: number;
  /** ISO time the damage was found. */
  since: string;
}

/**
 * The "unclean" mark of one partition: set at open when committed data turned out damaged (not a
 * torn tail) and was cut off, lifted once the log has re-fetched past the damage. While it is set
 * this replica may be missing committed records, so it must not lead (election reads unclean()).
 * It lives in a file, written before the cut: a restart after the cut must not forget it.
 */
export class UncleanMarker {
  private constructor(
    private readonly path: string,
    private state: UncleanState | undefined,
  ) {}

  /** No mark, in a partition folder just created (nothing to read). */
  static none(dir: string): UncleanMarker {
    return new UncleanMarker(join(dir, UNCLEAN_FILE), undefined);
  }

  /** The mark in `dir`, if any; an unreadable one is kept, lifted once the log passes `fallbackUntil`. */
  static async load(dir: string, fallbackUntil: number, log: (line: string) => void): Promise<UncleanMarker> {
    const path = join(dir, UNCLEAN_FILE);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new UncleanMarker(path, undefined);
      throw err;
    }
    try {
      const s = JSON.parse(text) as UncleanState;
      if (Number.isSafeInteger(s.until) && Number.isSafeInteger(s.cutAt) && (s.logStartUntil === undefined || Number.isSafeInteger(s.logStartUntil))) return new UncleanMarker(path, s);
    } catch {
      // fall through: the mark stays, with the most cautious reading we can give it
    }
    log(`${path} is unreadable; the partition stays unclean until its log reaches offset ${fallbackUntil}`);
    return new UncleanMarker(path, { cutAt: fallbackUntil - 1, until: fallbackUntil, reason: 'unreadable unclean mark', since: new Date().toISOString() });
  }

  get current(): UncleanState | undefined {
    return this.state && { ...this.state };
  }

  isSet(): boolean {
    return this.state !== undefined;
  }

  /** Set (or widen) the mark, durably; `logStartUntil` for records lost at the front (UncleanState). */
  async set(cutAt: number, until: number, reason: string, logStartUntil?: number): Promise<void> {
    const old = this.state;
    const next: UncleanState = old
      ? { cutAt: Math.min(old.cutAt, cutAt), until: Math.max(old.until, until), reason: old.reason.includes(reason) ? old.reason : `${old.reason}; ${reason}`, since: old.since }
      : { cutAt, until, reason, since: new Date().toISOString() };
    const front = Math.max(old?.logStartUntil ?? 0, logStartUntil ?? 0);
    if (front > 0) next.logStartUntil = front;
    await writeFileAtomic(this.path, JSON.stringify(next) + '\n');
    this.state = next;
  }

  /**
   * The log now ends at `logEndOffset`, and a leader's log start is `leaderLogStart` (-1 when not
   * known): lift the mark if the log has re-fetched past the damage, and a front gap is below the
   * leader's log start. Returns true when lifted.
   */
  async reached(logEndOffset: number, leaderLogStart = -1): Promise<boolean> {
    if (!this.state || logEndOffset < this.state.until) return false;
    if (this.state.logStartUntil !== undefined && leaderLogStart < this.state.logStartUntil) return false;
    await unlink(this.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await fsyncDir(join(this.path, '..'));
    this.state = undefined;
    return true;
  }
}
