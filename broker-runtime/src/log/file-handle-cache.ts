import { open, type FileHandle } from 'node:fs/promises';

/** Open segment files kept by default: far below the usual 1,024 open-file limit, which sockets share. */
export const DEFAULT_MAX_OPEN_FILES = 512;

/**
 * The open segment data files of a broker, at most `maxOpen` at a time (Kafka keeps its segments
 * mapped; a broker with 10,000 partitions must not hold 10,000 files open: at a 1,024 open-file
 * limit the 1,025th open failed with EMFILE). Each file is a CachedFile; using one opens it when it
 * is closed, and opening one past the limit closes the least recently used file nobody is using
 * (one with nothing unsynced first, whose close costs no fsync).
 *
 * A file is never closed while it is in use (`acquire` .. `release`: a read, a write, an fsync)
 * and never with written data not yet fsynced: such a file is fsynced first (`datasync`), so an
 * I/O error of the write-back is seen by a handle of ours and reported, not lost with the handle.
 * When every open file is in use the limit is passed for a moment rather than failing a request.
 */
export class FileHandleCache {
  /** Open (or opening) files, least recently used first: a Map keeps insertion order. */
  private readonly lru = new Map<CachedFile, true>();
  /** Handles open or being opened or closed: what counts against the limit. */
  private held = 0;
  private evictions = 0;

  constructor(readonly maxOpen = DEFAULT_MAX_OPEN_FILES) {
    if (!Number.isSafeInteger(maxOpen) || maxOpen < 1) throw new RangeError(`maxOpen must be a positive integer, got ${maxOpen}`);
  }

  /** A file of `path`, opened with `flags` when first used (and again after it was closed). */
  file(path: string, flags: 'r+' | 'r' = 'r+'): CachedFile {
    return new CachedFile(this, path, flags);
  }

  /** Handles held now (open, opening or closing). */
  get openCount(): number {
    return this.held;
  }

  /** Files closed to make room, since start. */
  get evictedCount(): number {
    return this.evictions;
  }

  /** @internal A file is about to open: make room first. */
  async reserve(): Promise<void> {
    this.held++;
    // Each file is tried once at most: one whose fsync fails stays open, and we move on.
    for (let tries = this.lru.size; this.held > this.maxOpen && tries > 0; tries--) {
      const victim = this.leastRecentlyUnused();
      if (!victim) return; // everything open is in use: pass the limit for now
      this.evictions++;
      await victim.evict();
    }
  }

  /** @internal A handle was closed (or failed to open). */
  returned(): void {
    this.held--;
  }

  /** @internal */
  touch(file: CachedFile): void {
    this.lru.delete(file);
    this.lru.set(file, true);
  }

  /** @internal */
  forget(file: CachedFile): void {
    this.lru.delete(file);
  }

  /**
   * The least recently used file nobody is using, preferring one with nothing unsynced: closing
   * that costs no fsync. A dirty one would be fsynced in the path of whoever needs the room (an
   * append to a partition whose file was closed), which made each first record into thousands of
   * partitions wait for another partition's fsync. A dirty file goes when no clean one can.
   */
  private leastRecentlyUnused(): CachedFile | undefined {
    let dirty: CachedFile | undefined;
    for (const file of this.lru.keys()) {
      if (!file.evictable()) continue;
      if (!file.dirty()) {
        this.lru.delete(file);
        return file;
      }
      dirty ??= file;
    }
    if (dirty) this.lru.delete(dirty);
    return dirty;
  }
}

/**
 * One file that may be open or closed at any moment it is not in use. Callers bracket every use
 * with acquire() .. release(), and tell it of writes (`wrote`) and fsyncs (`synced`), so it is
 * never closed with data the page cache has not written back under a handle of ours.
 */
export class CachedFile {
  private handle: FileHandle | undefined;
  private opening: Promise<FileHandle> | undefined;
  private closing: Promise<void> | undefined;
  private users = 0;
  /** Writes since the last fsync (counted, so an fsync racing a write does not clear it). */
  private writes = 0;
  private syncedWrites = 0;
  private closed = false;

  constructor(
    private readonly cache: FileHandleCache,
    readonly path: string,
    private readonly flags: 'r+' | 'r',
  ) {}

  /** Adopt a handle opened elsewhere (a segment file just created), counting it against the limit. */
  async adopt(handle: FileHandle): Promise<void> {
    await this.cache.reserve();
    this.handle = handle;
    this.cache.touch(this);
  }

  /** The open handle, opening the file if needed; it stays open until the matching release(). */
  async acquire(): Promise<FileHandle> {
    if (this.closed) throw new Error(`${this.path} is closed`);
    this.users++;
    try {
      for (;;) {
        if (this.closing) await this.closing;
        else if (this.handle) break;
        else await (this.opening ??= this.openNow());
      }
    } catch (err) {
      this.users--;
      throw err;
    }
    this.cache.touch(this);
    return this.handle;
  }

  /** The handle if it is open and nobody is closing it, acquired; else undefined (use acquire()). */
  tryAcquire(): FileHandle | undefined {
    if (!this.handle || this.closing || this.closed) return undefined;
    this.users++;
    this.cache.touch(this);
    return this.handle;
  }

  release(): void {
    this.users--;
  }

  /** Run `use` with the handle open. */
  async with<T>(use: (handle: FileHandle) => T | Promise<T>): Promise<T> {
    const handle = this.tryAcquire() ?? (await this.acquire());
    try {
      return await use(handle);
    } finally {
      this.release();
    }
  }

  /** Data was written through the handle: it must be fsynced before the handle may close. */
  wrote(): void {
    this.writes++;
  }

  /** Whether anything written is not yet fsynced. */
  dirty(): boolean {
    return this.writes !== this.syncedWrites;
  }

  /** fsync (fdatasync) the file if anything written is not yet; a no-op when nothing is. */
  async datasync(): Promise<void> {
    if (!this.dirty()) return;
    const upTo = this.writes;
    await this.with((h) => h.datasync());
    if (upTo > this.syncedWrites) this.syncedWrites = upTo;
  }

  /** Whether the file is open or being opened. */
  isOpen(): boolean {
    return this.handle !== undefined || this.opening !== undefined;
  }

  /** Close for good (the segment is closed or deleted); waits for nothing: callers stop using it first. */
  async close(): Promise<void> {
    this.closed = true;
    this.cache.forget(this);
    if (this.closing) await this.closing;
    if (this.opening) await this.opening.catch(() => undefined);
    const h = this.handle;
    this.handle = undefined;
    if (!h) return;
    try {
      await h.close();
    } finally {
      this.cache.returned();
    }
  }

  /** @internal Whether the cache may close it now. */
  evictable(): boolean {
    return this.users === 0 && this.handle !== undefined && !this.closing && !this.opening;
  }

  /** @internal Close to make room: fsync first if it holds unsynced writes. */
  evict(): Promise<void> {
    this.closing = (async () => {
      try {
        if (this.dirty()) {
          const upTo = this.writes;
          await this.handle!.datasync();
          this.syncedWrites = upTo;
        }
      } catch {
        // The write-back failed: keep the handle (the next fsync of the log reports the error).
        this.cache.touch(this);
        return;
      }
      const h = this.handle!;
      this.handle = undefined;
      try {
        await h.close();
      } finally {
        this.cache.returned();
      }
    })().finally(() => {
      this.closing = undefined;
    });
    return this.closing;
  }

  private async openNow(): Promise<FileHandle> {
    try {
      await this.cache.reserve();
      let h: FileHandle;
      try {
        h = await open(this.path, this.flags);
      } catch (err) {
        this.cache.returned();
        throw err;
      }
      if (this.closed) {
        await h.close();
        this.cache.returned();
        throw new Error(`${this.path} is closed`);
      }
      this.handle = h;
      return h;
    } finally {
      this.opening = undefined;
    }
  }
}
