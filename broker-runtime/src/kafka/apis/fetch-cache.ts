/**
 * Kafka batches already encoded for a Fetch, kept for the next Fetch of the same records: a re-read
 * (a second consumer group, a consumer replaying from the start, a rebalance) then costs a copy of
 * the batch (~60 ns per 100-byte record) instead of encoding it again (~350 ns; a compressed batch,
 * decompressed and compressed again for Kafka, ~700–900 ns). bench/kafka-fetch-encoding.ts has the
 * figures, the README ("One log for both worlds") the choice.
 *
 * Only committed records are cached (below the high-water mark, which never moves back), and every
 * key names the log object, the first offset, its leader epoch and the stored CRC of the entry (a
 * compressed batch's covers all its records) or of a block's first record, with the block's last
 * record's CRC kept beside it as `check` (the reader compares it before using the entry: a first
 * read finds no key and so never has to look for the block's last record), so records rewritten at
 * the same offsets (a topic re-created, a follower's log restarted, a suffix replaced after an
 * unclean election) never match an old entry. Least recently used entries go first.
 */
export class EncodedBatchCache {
  private readonly entries = new Map<string, CachedBatch>();
  private held = 0;
  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;

  constructor(readonly maxBytes: number) {}

  /** A number of its own for each log object (the logs outlive nothing here: WeakMap). */
  idOf(log: object): number {
    let id = this.ids.get(log);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(log, id);
    }
    return id;
  }

  get(key: string): CachedBatch | undefined {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      // Most recently used last: Map keeps insertion order.
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  /**
   * Keeps a copy of `bytes` (the caller's buffer is reused) under `key` with its `check`, replacing
   * an entry of the same key with another check; one entry holds at most an eighth of the cache.
   */
  set(key: string, bytes: Buffer, check = 0): void {
    if (bytes.length > this.maxBytes / 8) return;
    const old = this.entries.get(key);
    if (old !== undefined) {
      if (old.check === check) return;
      this.entries.delete(key);
      this.held -= old.bytes.length;
    }
    const copy = Buffer.from(bytes);
    this.entries.set(key, { bytes: copy, check });
    this.held += copy.length;
    for (const [k, v] of this.entries) {
      if (this.held <= this.maxBytes) break;
      this.entries.delete(k);
      this.held -= v.bytes.length;
    }
  }

  get bytes(): number {
    return this.held;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** An encoded batch and what its user checks before using it (a block's last stored CRC; 0 when the key says everything). */
export interface CachedBatch {
  bytes: Buffer;
  check: number;
}

/** What a broker keeps of encoded Fetch batches, in all (about 0.4 % of the 8 GiB a Kafka broker is often given). */
export const FETCH_CACHE_BYTES = 32 << 20;
