import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, writeFileAtomic } from './atomic-file.js';
import { jsonChecksum } from './checkpoint-checksum.js';

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
 * The mark's text: the state as JSON with a `crc32` field over the rest (checkpoint-checksum.ts).
 * A mark written before the checksum (no `crc32`) is still read. A flipped digit that lowers
 * `until` or `logStartUntil` would lift the mark before the replica has re-fetched what it lost,
 * and let it lead without committed records.
 */
export function uncleanText(state: UncleanState): string {
  return JSON.stringify({ ...state, crc32: jsonChecksum(state) }) + '\n';
}

/** Pure: the mark a file's text gives, `damaged` (its checksum fails, with whatever numbers it shows) or `unreadable`. */
export function parseUnclean(text: string): UncleanState | { damaged: Partial<UncleanState> } | 'unreadable' {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return 'unreadable';
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'unreadable';
  const { crc32, ...rest } = doc;
  const s = rest as unknown as UncleanState;
  const wellFormed = Number.isSafeInteger(s.until) && Number.isSafeInteger(s.cutAt) && (s.logStartUntil === undefined || Number.isSafeInteger(s.logStartUntil));
  if (crc32 !== undefined && crc32 !== jsonChecksum(rest)) {
    const shown: Partial<UncleanState> = {};
    if (Number.isSafeInteger(s.until)) shown.until = s.until;
    if (Number.isSafeInteger(s.logStartUntil)) shown.logStartUntil = s.logStartUntil;
    return { damaged: shown };
  }
  return wellFormed ? s : 'unreadable';
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

  /** The mark in `dir`, if any; an unreadable or damaged one is kept, lifted once the log passes `fallbackUntil` (and what a damaged one shows). */
  static async load(dir: string, fallbackUntil: number, log: (line: string) => void, warn?: (line: string) => void): Promise<UncleanMarker> {
    const path = join(dir, UNCLEAN_FILE);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new UncleanMarker(path, undefined);
      throw err;
    }
    const parsed = parseUnclean(text);
    if (parsed !== 'unreadable' && !('damaged' in parsed)) return new UncleanMarker(path, parsed);
    if (parsed === 'unreadable') {
      log(`${path} is unreadable; the partition stays unclean until its log reaches offset ${fallbackUntil}`);
      return new UncleanMarker(path, { cutAt: fallbackUntil - 1, until: fallbackUntil, reason: 'unreadable unclean mark', since: new Date().toISOString() });
    }
    // Damaged: the mark stays, lifted no earlier than the numbers the file shows or the fallback ask (the caller's includes the high-water mark checkpoint).
    const until = Math.max(fallbackUntil, parsed.damaged.until ?? 0);
    const state: UncleanState = { cutAt: fallbackUntil - 1, until, reason: 'damaged unclean mark', since: new Date().toISOString() };
    if (parsed.damaged.logStartUntil !== undefined && parsed.damaged.logStartUntil > 0) state.logStartUntil = parsed.damaged.logStartUntil;
    (warn ?? log)(`${path} is damaged (its checksum fails): the partition stays unclean until its log reaches offset ${until}${state.logStartUntil !== undefined ? ` and a leader's log start ${state.logStartUntil}` : ''}`);
    return new UncleanMarker(path, state);
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
    await writeFileAtomic(this.path, uncleanText(next));
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
