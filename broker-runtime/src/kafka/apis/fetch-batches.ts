import { codecById, type Codec } from '../../log/compression/index.js';
import {
  InvalidBatchError,
  decompressEntryAt,
  entryCodecIdAt,
  entryEndOffsetAt,
  isCompressedAt,
  isGapAt,
  recordEpochAt,
  recordOffsetAt,
  recordSizeAt,
} from '../../log/record-codec.js';
import { crc32c } from '../protocol/crc32c.js';
import { BATCH_OVERHEAD, MAGIC_V2, encodeEmptyBatch } from '../protocol/record-batch.js';
import type { EncodedBatchCache } from './fetch-cache.js';
import { Out } from './fetch-out.js';
import { writeStoredRecord } from './stored-to-kafka-record.js';

/**
 * A Fetch answer's records, encoded as Kafka RecordBatch v2 straight from the stored entries' bytes
 * (what `PartitionLog.readRaw` returns), without building a JS object per record: a stored record's
 * key and payload are the Kafka record's key and value byte for byte unless a `yak.*` marker header
 * says otherwise (record-mapping.ts), so the common record is a few varints and two copies
 * (stored-to-kafka-record.ts). Measured in bench/kafka-fetch-encoding.ts and the README ("One log
 * for both worlds").
 *
 * A compressed stored batch whose codec Kafka knows (gzip, lz4) goes out as one compressed Kafka
 * batch of all its records (its attributes name the codec; lz4 in Kafka's LZ4 frame format, where
 * YAK stores an LZ4 block, so the records are compressed again either way); clients skip the records
 * below the offset they asked for, as they do with Kafka's own batches. A batch reaching past
 * `upTo` (the high-water mark) is sent as its plain records below it instead.
 *
 * `entries` are whole stored entries covering offsets up to `entriesEnd` (RawBatch.nextOffset),
 * read within the answer's byte limit, which `maxBytes` repeats for a compressed batch unpacked;
 * with a `cache`, whole committed blocks of plain records and converted compressed batches are
 * taken from it and put in it (fetch-cache.ts).
 */
export function kafkaBatchesOf(entries: Buffer, entriesEnd: number, from: number, upTo: number, maxRecords: number, cache?: CacheUse, maxBytes = Number.POSITIVE_INFINITY): Buffer | null {
  // A cached block is used only when the entries read hold all of it: an answer never carries more than was read.
  const held = Math.min(upTo, entriesEnd);
  const out = new FetchBatches(new Out(Math.max(256, entries.length + BATCH_OVERHEAD)), cache, maxBytes);
  let pos = 0;
  // A compacted topic's gaps (offsets whose records compaction removed) are skipped: a Kafka batch's
  // records carry their own offset deltas, so a batch may span a gap, as Kafka's compacted ones do.
  let gapEnd = -1;
  let gapEpoch = 0;
  while (pos < entries.length && out.records < maxRecords) {
    const size = recordSizeAt(entries, pos);
    if (size < 0) throw new InvalidBatchError(`stored entries: ${size === -1 ? 'a partial entry' : 'an impossible length'} at byte ${pos}`);
    const offset = recordOffsetAt(entries, pos);
    if (offset >= upTo) break;
    if (isGapAt(entries, pos)) {
      gapEnd = entryEndOffsetAt(entries, pos, size);
      gapEpoch = recordEpochAt(entries, pos);
    } else if (isCompressedAt(entries, pos)) {
      out.compressed(entries, pos, size, from, upTo);
    } else if (offset >= from) {
      const after = offset % CACHE_BLOCK === 0 && out.records + CACHE_BLOCK <= maxRecords ? out.cachedBlock(entries, pos, held) : -1;
      if (after >= 0) {
        pos = after; // the whole block came from the cache
        continue;
      }
      out.plain(entries, pos, size);
    }
    pos += size;
  }
  // The read stopped at its byte limit with more committed records after it: end the answer at the
  // last block boundary, so the consumer's next Fetch starts on one and finds whole blocks cached.
  if (pos >= entries.length && entriesEnd < upTo) out.dropPartialBlock();
  const answer = out.finish();
  // Only gaps read: an empty batch over them moves the consumer past them, as Kafka's does.
  if (answer === null && gapEnd > from) return encodeEmptyBatch(from, Math.min(gapEnd, upTo) - 1, Math.min(Math.max(gapEpoch, 0), 0x7fffffff), Date.now()).toBuffer();
  return answer;
}

/**
 * Plain records are cut into Kafka batches at offsets that are multiples of this (and where the
 * leader epoch changes), so the batch of a whole block is the same bytes whichever offset a read
 * started at, and is cached by its first offset. 512 100-byte records are ~55 KB, a 1 MiB Fetch ~18.
 */
export const CACHE_BLOCK = 512;

/** The cache a Fetch uses, and the id of the log it reads (EncodedBatchCache.idOf). */
export interface CacheUse {
  cache: EncodedBatchCache;
  log: number;
}

/** A stored entry's cache key: log, first offset, leader epoch, stored CRC (a compressed batch's covers all its records). */
function cacheKey(use: CacheUse, kind: string, buf: Buffer, pos: number): string {
  return `${use.log}:${kind}${recordOffsetAt(buf, pos)}:${recordEpochAt(buf, pos)}:${buf.readUInt32BE(pos + CRC_FIELD_AT)}`;
}

// Byte positions in a RecordBatch v2 header (record-batch.ts lists the fields).
const LENGTH_AT = 8;
const CRC_AT = 17;
const ATTRIBUTES_AT = 21;
const LAST_OFFSET_DELTA_AT = 23;
const MAX_TIMESTAMP_AT = 35;
const COUNT_AT = 57;
const TWO_POW_32 = 2 ** 32;

// Byte positions in a stored record (log/types.ts): length, crc, offset, epoch, timestamp.
const CRC_FIELD_AT = 4;
const TIMESTAMP_AT = 20;

/** Kafka batches written one after another; at most one uncompressed batch is open at a time. */
class FetchBatches {
  /** Records written, in all batches. */
  records = 0;
  /** Where the open batch starts, -1 when none is open. */
  private open = -1;
  private base = 0;
  private baseTs = 0;
  private maxTs = 0;
  private epoch = -1;
  private last = 0;
  private count = 0;

  /** The cache key of the open batch when it started a block (it is cached if it completes it), else null. */
  private blockKey: string | null = null;

  constructor(
    private readonly out: Out,
    private readonly cache: CacheUse | undefined,
    /** Past this many bytes written, records unpacked from a compressed batch stop (one always goes). */
    private readonly maxBytes: number,
  ) {}

  /**
   * At a plain record starting a block (offset a multiple of CACHE_BLOCK): the block's cached batch
   * when the whole block is committed and cached; then the position in `buf` after the block's
   * entries. Otherwise -1, and the batch begun here is cached once it holds the whole block.
   */
  cachedBlock(buf: Buffer, pos: number, upTo: number): number {
    const first = recordOffsetAt(buf, pos);
    if (!this.cache || first + CACHE_BLOCK > upTo) return -1;
    const key = cacheKey(this.cache, 'b', buf, pos);
    const hit = this.cache.cache.get(key);
    if (hit === undefined) {
      // Not cached: no need to find the block's last record now (a first read finds no block).
      this.close();
      this.blockKey = key;
      return -1;
    }
    // The block's last record names it too: records rewritten at these offsets (only ever a suffix
    // of the log, after an unclean election) change the last one, whatever else stays.
    const last = first + CACHE_BLOCK - 1;
    let lastAt = -1;
    for (let p = pos; p < buf.length; ) {
      const s = recordSizeAt(buf, p);
      // A gap (compaction ran) ends the search: a block with gaps is never cached nor served from the cache.
      if (s < 0 || isCompressedAt(buf, p) || isGapAt(buf, p) || recordOffsetAt(buf, p) > last) break;
      if (recordOffsetAt(buf, p) === last) {
        lastAt = p;
        break;
      }
      p += s;
    }
    if (lastAt < 0) return -1;
    if (buf.readUInt32BE(lastAt + CRC_FIELD_AT) !== hit.check) {
      // Other records at these offsets than the cached block's: encode them, and cache them instead.
      this.close();
      this.blockKey = key;
      return -1;
    }
    this.close();
    this.out.raw(hit.bytes);
    this.records += CACHE_BLOCK;
    return lastAt + recordSizeAt(buf, lastAt);
  }

  /** A plain stored record: joins the open batch unless its leader epoch differs (one epoch per batch) or a block starts. */
  plain(buf: Buffer, pos: number, size: number): void {
    const offset = recordOffsetAt(buf, pos);
    const epoch = recordEpochAt(buf, pos);
    if (this.open >= 0 && (epoch !== this.epoch || offset % CACHE_BLOCK === 0)) this.close();
    const ts = buf.readDoubleBE(pos + TIMESTAMP_AT);
    if (this.open < 0) this.begin(offset, ts, epoch, 0);
    writeStoredRecord(this.out, buf, pos, size, offset - this.base, ts - this.baseTs);
    this.last = offset;
    if (ts > this.maxTs) this.maxTs = ts;
    this.count++;
    this.records++;
    // The whole block in one batch (one epoch, every offset): kept for the next read of it.
    if (this.blockKey !== null && this.count === CACHE_BLOCK && this.last - this.base === CACHE_BLOCK - 1) {
      const start = this.open;
      const key = this.blockKey;
      this.close();
      this.cache!.cache.set(key, this.out.buf.subarray(start, this.out.pos), buf.readUInt32BE(pos + CRC_FIELD_AT));
    }
  }

  /** A compressed stored batch at `pos` (whole, `size` bytes): see kafkaBatchesOf. */
  compressed(buf: Buffer, pos: number, size: number, from: number, upTo: number): void {
    const codec = codecById(entryCodecIdAt(buf, pos));
    const whole = codec !== undefined && entryEndOffsetAt(buf, pos, size) <= upTo;
    const key = whole && this.cache ? cacheKey(this.cache, 'z', buf, pos) : null;
    const hit = key === null ? undefined : this.cache!.cache.get(key);
    if (hit !== undefined) {
      this.close();
      this.out.raw(hit.bytes);
      this.records += entryEndOffsetAt(buf, pos, size) - recordOffsetAt(buf, pos);
      return;
    }
    const plain = decompressEntryAt(buf, pos, size);
    if (whole) {
      this.close();
      const start = this.out.pos;
      this.compressedBatch(plain, recordEpochAt(buf, pos), codec);
      if (key !== null) this.cache!.cache.set(key, this.out.buf.subarray(start, this.out.pos));
      return;
    }
    for (let p = 0; p < plain.length; ) {
      const s = recordSizeAt(plain, p);
      const o = recordOffsetAt(plain, p);
      // A small stored batch may unpack to 64 MiB: the answer's byte limit holds for it too.
      if (o >= upTo || (this.records > 0 && this.out.pos >= this.maxBytes)) break;
      if (o >= from) this.plain(plain, p, s);
      p += s;
    }
  }

  /** Takes back the open batch when it is the start of a block not read whole and something precedes it. */
  dropPartialBlock(): void {
    if (this.open <= 0 || this.base % CACHE_BLOCK !== 0 || this.count >= CACHE_BLOCK) return;
    this.out.pos = this.open;
    this.records -= this.count;
    this.open = -1;
    this.blockKey = null;
  }

  /** The batches written, or null when there are none. */
  finish(): Buffer | null {
    this.close();
    return this.out.pos === 0 ? null : this.out.buf.subarray(0, this.out.pos);
  }

  /** All the records of one stored batch (`plain`: its decompressed records), as one Kafka batch compressed with `codec`. */
  private compressedBatch(plain: Buffer, epoch: number, codec: Codec): void {
    const inner = new Out(plain.length);
    const base = recordOffsetAt(plain, 0);
    const baseTs = plain.readDoubleBE(TIMESTAMP_AT);
    let maxTs = baseTs;
    let last = base;
    let count = 0;
    for (let p = 0; p < plain.length; ) {
      const s = recordSizeAt(plain, p);
      last = recordOffsetAt(plain, p);
      const ts = plain.readDoubleBE(p + TIMESTAMP_AT);
      if (ts > maxTs) maxTs = ts;
      writeStoredRecord(inner, plain, p, s, last - base, ts - baseTs);
      count++;
      p += s;
    }
    this.begin(base, baseTs, epoch, codec.id);
    this.out.raw(codec.kafka.compress(inner.buf.subarray(0, inner.pos)));
    this.last = last;
    this.maxTs = maxTs;
    this.count = count;
    this.records += count;
    this.close();
  }

  private begin(baseOffset: number, baseTs: number, epoch: number, attributes: number): void {
    const o = this.out;
    o.ensure(BATCH_OVERHEAD);
    this.open = o.pos;
    this.base = baseOffset;
    this.baseTs = baseTs;
    this.maxTs = baseTs;
    this.epoch = epoch;
    this.count = 0;
    o.int64(baseOffset);
    o.int32(0); // batchLength, patched by close()
    o.int32(Math.min(epoch, 0x7fffffff)); // partitionLeaderEpoch: the epoch that wrote the records
    o.buf[o.pos++] = MAGIC_V2;
    o.int32(0); // crc, patched
    o.int16(attributes); // the codec in the low bits; CreateTime, not transactional, not control
    o.int32(0); // lastOffsetDelta, patched
    o.int64(baseTs);
    o.int64(0); // maxTimestamp, patched
    o.int64(-1); // producerId: none (not idempotent)
    o.int16(-1); // producerEpoch
    o.int32(-1); // baseSequence
    o.int32(0); // count, patched
  }

  private close(): void {
    if (this.open < 0) return;
    const v = this.out.buf.subarray(this.open, this.out.pos);
    v.writeInt32BE(v.length - LENGTH_AT - 4, LENGTH_AT);
    v.writeInt32BE(this.last - this.base, LAST_OFFSET_DELTA_AT);
    const hi = Math.floor(this.maxTs / TWO_POW_32);
    v.writeInt32BE(hi, MAX_TIMESTAMP_AT);
    v.writeUInt32BE(this.maxTs - hi * TWO_POW_32, MAX_TIMESTAMP_AT + 4);
    v.writeInt32BE(this.count, COUNT_AT);
    v.writeUInt32BE(crc32c(v.subarray(ATTRIBUTES_AT)), CRC_AT);
    this.open = -1;
    this.blockKey = null;
  }
}
