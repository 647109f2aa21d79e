import { codecById, type Codec } from '../../log/compression/index.js';
import {
  InvalidBatchError,
  decompressEntryAt,
  entryCodecIdAt,
  entryEndOffsetAt,
  isCompressedAt,
  recordEpochAt,
  recordOffsetAt,
  recordSizeAt,
} from '../../log/record-codec.js';
import { crc32c } from '../protocol/crc32c.js';
import type { EncodedBatchCache } from './fetch-cache.js';
import { BATCH_OVERHEAD, MAGIC_V2 } from '../protocol/record-batch.js';
import type { KafkaHeader } from '../protocol/record-batch.js';
import { RESERVED_PREFIX, toOutgoingRecord } from '../record-mapping.js';

/**
 * A Fetch answer's records, encoded as Kafka RecordBatch v2 straight from the stored entries' bytes
 * (what `PartitionLog.readRaw` returns), without building a JS object per record: a stored record's
 * key and payload are the Kafka record's key and value byte for byte unless a `yak.*` marker header
 * says otherwise (record-mapping.ts), so the common record is a few varints and two copies. Only a
 * record with a marker takes the general path (decode, toOutgoingRecord). Measured in
 * bench/kafka-fetch-encoding.ts and the README ("One log for both worlds").
 *
 * A compressed stored batch whose codec Kafka knows (gzip, lz4) goes out as one compressed Kafka
 * batch of all its records (its attributes name the codec; lz4 in Kafka's LZ4 frame format, where
 * YAK stores an LZ4 block, so the records are compressed again either way); clients skip the records
 * below the offset they asked for, as they do with Kafka's own batches. A batch reaching past
 * `upTo` (the high-water mark) is sent as its plain records below it instead.
 *
 * `entries` are whole stored entries covering offsets up to `entriesEnd` (RawBatch.nextOffset);
 * with a `cache`, whole committed blocks of plain records and converted compressed batches are
 * taken from it and put in it (fetch-cache.ts).
 */
export function kafkaBatchesOf(entries: Buffer, entriesEnd: number, from: number, upTo: number, maxRecords: number, cache?: CacheUse): Buffer | null {
  // A cached block is used only when the entries read hold all of it: an answer never carries more than was read.
  const held = Math.min(upTo, entriesEnd);
  const out = new FetchBatches(new Out(Math.max(256, entries.length + BATCH_OVERHEAD)), cache);
  let pos = 0;
  while (pos < entries.length && out.records < maxRecords) {
    const size = recordSizeAt(entries, pos);
    if (size < 0) throw new InvalidBatchError(`stored entries: ${size === -1 ? 'a partial entry' : 'an impossible length'} at byte ${pos}`);
    const offset = recordOffsetAt(entries, pos);
    if (offset >= upTo) break;
    if (isCompressedAt(entries, pos)) {
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
  return out.finish();
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

// Byte positions in a stored record (log/types.ts): length, crc, offset, epoch, timestamp, keyLength.
const CRC_FIELD_AT = 4;
const TIMESTAMP_AT = 20;
const KEY_LENGTH_AT = 28;
const KEY_AT = 32;

/**
 * A growing output buffer written in place: the per-record work here is a handful of small fields,
 * where Writer's general methods (a bounds check and a call per field) were a third of the cost.
 */
/** Shorter fields are copied by a loop: below this a native copy costs more in call overhead than it saves. */
const COPY_LOOP_BELOW = 48;

class Out {
  buf: Buffer;
  pos = 0;

  constructor(initial: number) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Zigzag varint/varlong (Kafka's), exact for |v| < 2^52; room must be ensured (10 bytes). */
  varint(v: number): void {
    let n = v >= 0 ? v * 2 : -v * 2 - 1;
    const b = this.buf;
    if (n < 0x80000000) {
      while (n >= 0x80) {
        b[this.pos++] = (n & 0x7f) | 0x80;
        n >>>= 7;
      }
    } else {
      while (n >= 0x80) {
        b[this.pos++] = (n % 0x80) | 0x80;
        n = Math.floor(n / 0x80);
      }
    }
    b[this.pos++] = n;
  }

  /** `src[start, end)`, room ensured: a loop for the short fields, a native copy for the long. */
  copy(src: Buffer, start: number, end: number): void {
    if (end - start < COPY_LOOP_BELOW) {
      const b = this.buf;
      let p = this.pos;
      for (let i = start; i < end; i++) b[p++] = src[i]!;
      this.pos = p;
    } else {
      this.pos += src.copy(this.buf, this.pos, start, end);
    }
  }

  raw(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  int16(v: number): void {
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
  }

  int32(v: number): void {
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
  }

  int64(v: number): void {
    const hi = Math.floor(v / TWO_POW_32);
    this.buf.writeInt32BE(hi, this.pos);
    this.buf.writeUInt32BE(v - hi * TWO_POW_32, this.pos + 4);
    this.pos += 8;
  }
}

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
  ) {}

  /**
   * At a plain record starting a block (offset a multiple of CACHE_BLOCK): the block's cached batch
   * when the whole block is committed and cached; then the position in `buf` after the block's
   * entries. Otherwise -1, and the batch begun here is cached once it holds the whole block.
   */
  cachedBlock(buf: Buffer, pos: number, upTo: number): number {
    const first = recordOffsetAt(buf, pos);
    if (!this.cache || first + CACHE_BLOCK > upTo) return -1;
    // The block's last record names it too: records rewritten at these offsets (only ever a suffix
    // of the log, after an unclean election) change the last one, whatever else stays.
    const last = first + CACHE_BLOCK - 1;
    let lastAt = -1;
    for (let p = pos; p < buf.length; ) {
      const s = recordSizeAt(buf, p);
      if (s < 0 || isCompressedAt(buf, p) || recordOffsetAt(buf, p) > last) break;
      if (recordOffsetAt(buf, p) === last) {
        lastAt = p;
        break;
      }
      p += s;
    }
    if (lastAt < 0) return -1;
    const key = `${cacheKey(this.cache, 'b', buf, pos)}:${buf.readUInt32BE(lastAt + CRC_FIELD_AT)}`;
    const hit = this.cache.cache.get(key);
    if (hit === undefined) {
      this.close();
      this.blockKey = key;
      return -1;
    }
    this.close();
    this.out.raw(hit);
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
      this.cache!.cache.set(key, this.out.buf.subarray(start, this.out.pos));
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
      this.out.raw(hit);
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
      if (o >= upTo) break;
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

/**
 * One Kafka record from the stored plain record at `pos` (`size` bytes): key, value and headers
 * copied from the stored bytes when no `yak.*` marker is among the headers (the stored key is the
 * Kafka key's UTF-8, the payload the value's bytes), else mapped by toOutgoingRecord.
 */
function writeStoredRecord(out: Out, buf: Buffer, pos: number, size: number, offsetDelta: number, tsDelta: number): void {
  const end = pos + size;
  const keyLength = buf.readInt32BE(pos + KEY_LENGTH_AT);
  const keyEnd = pos + KEY_AT + Math.max(keyLength, 0);
  if (keyEnd + 4 > end) throw new InvalidBatchError(`record at byte ${pos}: key length ${keyLength} runs past the record`);
  const headersLength = buf.readUInt32BE(keyEnd);
  const headersStart = keyEnd + 4;
  const valueStart = headersStart + headersLength;
  if (valueStart > end) throw new InvalidBatchError(`record at byte ${pos}: headers length ${headersLength} runs past the record`);
  if (headersLength > 0) {
    writeWithHeaders(out, buf, pos, keyLength, headersStart, valueStart, end, offsetDelta, tsDelta);
    return;
  }
  const keyBytes = Math.max(keyLength, 0);
  const valueLength = end - valueStart;
  const length = 1 + varintSize(tsDelta) + varintSize(offsetDelta) + varintSize(keyLength) + keyBytes + varintSize(valueLength) + valueLength + 1;
  out.ensure(length + 5);
  out.varint(length);
  out.buf[out.pos++] = 0; // record attributes: unused
  out.varint(tsDelta);
  out.varint(offsetDelta);
  out.varint(keyLength); // -1 for a null key
  if (keyBytes > 0) out.copy(buf, pos + KEY_AT, keyEnd);
  out.varint(valueLength);
  out.copy(buf, valueStart, end);
  out.buf[out.pos++] = 0; // no headers
}

/**
 * The header names and values of a stored headers object as byte ranges of `buf` (name start, name
 * end, value start, value end, ...), when it is what JSON.stringify writes with no escapes
 * (`{"name":"value",...}`, no backslash: the bytes between the quotes are then the strings' UTF-8,
 * in the object's own order); null otherwise, for JSON.parse to read.
 */
function headerRanges(buf: Buffer, start: number, end: number): number[] | null {
  if (buf[start] !== 0x7b || buf[end - 1] !== 0x7d) return null; // { }
  const ranges: number[] = [];
  let p = start + 1;
  if (p === end - 1) return ranges;
  for (;;) {
    for (let field = 0; field < 2; field++) {
      if (buf[p] !== 0x22) return null; // "
      const from = p + 1;
      let q = from;
      while (q < end && buf[q] !== 0x22) {
        if (buf[q] === 0x5c) return null; // a backslash: an escape, JSON.parse reads it
        q++;
      }
      if (q >= end) return null;
      if (field === 0 && buf[q + 1] !== 0x3a) return null; // :
      p = field === 0 ? q + 2 : q + 1;
      ranges.push(from, q);
    }
    if (buf[p] === 0x7d && p === end - 1) return ranges;
    if (buf[p] !== 0x2c) return null; // ,
    p++;
  }
}

/** Whether buf[start, end) is the ASCII text `s`. */
function bytesAre(buf: Buffer, start: number, end: number, s: string): boolean {
  if (end - start !== s.length) return false;
  for (let i = 0; i < s.length; i++) if (buf[start + i] !== s.charCodeAt(i)) return false;
  return true;
}

/** The content of the JSON string buf[start, end) when it has no escapes (its bytes are then the string's UTF-8), else null. */
function plainJsonString(buf: Buffer, start: number, end: number): [number, number] | null {
  if (end - start < 2 || buf[start] !== 0x22 || buf[end - 1] !== 0x22) return null;
  for (let i = start + 1; i < end - 1; i++) if (buf[i] === 0x5c || buf[i] === 0x22) return null;
  return [start + 1, end - 1];
}

const NO_VALUE = Symbol('the general mapping');

/**
 * A record's Kafka key and value from its stored bytes and header ranges, as toOutgoingRecord maps
 * them (record-mapping.ts): `yak.value` text/base64/null and `yak.key` base64 undone, any other
 * `yak.*` name dropped. NO_VALUE when only the general mapping can say (`yak.headers`, an escaped
 * JSON string).
 */
function markedFields(buf: Buffer, ranges: number[], keyStart: number, keyLength: number, valueStart: number, end: number): [Uint8Array | null, Uint8Array | null] | typeof NO_VALUE {
  let key: Uint8Array | null = keyLength < 0 ? null : buf.subarray(keyStart, keyStart + keyLength);
  let value: Uint8Array | null = buf.subarray(valueStart, end);
  for (let i = 0; i < ranges.length; i += 4) {
    const n0 = ranges[i]!;
    const n1 = ranges[i + 1]!;
    const v0 = ranges[i + 2]!;
    const v1 = ranges[i + 3]!;
    if (bytesAre(buf, n0, n1, 'yak.headers')) return NO_VALUE;
    if (bytesAre(buf, n0, n1, 'yak.value')) {
      if (bytesAre(buf, v0, v1, 'null')) value = null;
      else if (bytesAre(buf, v0, v1, 'text') || bytesAre(buf, v0, v1, 'base64')) {
        const text = plainJsonString(buf, valueStart, end);
        if (text === null) return NO_VALUE;
        value = bytesAre(buf, v0, v1, 'text') ? buf.subarray(text[0], text[1]) : Buffer.from(buf.toString('utf8', text[0], text[1]), 'base64');
      }
    } else if (bytesAre(buf, n0, n1, 'yak.key') && key !== null && bytesAre(buf, v0, v1, 'base64')) {
      key = Buffer.from(buf.toString('utf8', keyStart, keyStart + keyLength), 'base64');
    }
  }
  return [key, value];
}

/** Whether the header name buf[start, end) is reserved (`yak.*`): a marker, never sent to Kafka consumers. */
function reserved(buf: Buffer, start: number, end: number): boolean {
  return end - start >= 4 && buf[start] === 0x79 && buf[start + 1] === 0x61 && buf[start + 2] === 0x6b && buf[start + 3] === 0x2e;
}

/** A stored record with headers: copied as bytes, markers undone (markedFields); anything unusual through toOutgoingRecord. */
function writeWithHeaders(out: Out, buf: Buffer, pos: number, keyLength: number, headersStart: number, valueStart: number, end: number, offsetDelta: number, tsDelta: number): void {
  const ranges = headerRanges(buf, headersStart, valueStart);
  if (ranges !== null) {
    let marked = false;
    for (let i = 0; i < ranges.length && !marked; i += 4) marked = reserved(buf, ranges[i]!, ranges[i + 1]!);
    const fields = marked ? markedFields(buf, ranges, pos + KEY_AT, keyLength, valueStart, end) : ([keyLength < 0 ? null : buf.subarray(pos + KEY_AT, pos + KEY_AT + keyLength), buf.subarray(valueStart, end)] as const);
    if (fields !== NO_VALUE) {
      const [key, value] = fields;
      let count = 0;
      let length = 1 + varintSize(tsDelta) + varintSize(offsetDelta) + bytesSize(key) + bytesSize(value);
      for (let i = 0; i < ranges.length; i += 4) {
        if (marked && reserved(buf, ranges[i]!, ranges[i + 1]!)) continue;
        count++;
        length += varintSize(ranges[i + 1]! - ranges[i]!) + ranges[i + 1]! - ranges[i]! + varintSize(ranges[i + 3]! - ranges[i + 2]!) + ranges[i + 3]! - ranges[i + 2]!;
      }
      length += varintSize(count);
      out.ensure(length + 5);
      out.varint(length);
      out.buf[out.pos++] = 0;
      out.varint(tsDelta);
      out.varint(offsetDelta);
      writeBytes(out, key);
      writeBytes(out, value);
      out.varint(count);
      for (let i = 0; i < ranges.length; i += 4) {
        if (marked && reserved(buf, ranges[i]!, ranges[i + 1]!)) continue;
        for (let r = i; r < i + 4; r += 2) {
          out.varint(ranges[r + 1]! - ranges[r]!);
          out.copy(buf, ranges[r]!, ranges[r + 1]!);
        }
      }
      return;
    }
  }
  const stored = JSON.parse(buf.toString('utf8', headersStart, valueStart)) as Record<string, string>;
  let key: Uint8Array | null = keyLength < 0 ? null : buf.subarray(pos + KEY_AT, pos + KEY_AT + keyLength);
  let value: Uint8Array | null = buf.subarray(valueStart, end);
  let headers: KafkaHeader[] | null = null;
  for (const name in stored) {
    if (name.startsWith(RESERVED_PREFIX)) {
      const r = toOutgoingRecord({ offset: 0, epoch: 0, timestamp: 0, key: key === null ? null : buf.toString('utf8', pos + KEY_AT, pos + KEY_AT + keyLength), headers: stored, payload: buf.toString('utf8', valueStart, end) });
      key = r.key;
      value = r.value;
      headers = r.headers;
      break;
    }
  }
  if (headers === null) {
    headers = [];
    for (const name in stored) headers.push({ key: Buffer.from(name, 'utf8'), value: Buffer.from(stored[name]!, 'utf8') });
  }
  let length = 1 + varintSize(tsDelta) + varintSize(offsetDelta) + bytesSize(key) + bytesSize(value) + varintSize(headers.length);
  for (const h of headers) length += bytesSize(h.key) + bytesSize(h.value);
  out.ensure(length + 5);
  out.varint(length);
  out.buf[out.pos++] = 0;
  out.varint(tsDelta);
  out.varint(offsetDelta);
  writeBytes(out, key);
  writeBytes(out, value);
  out.varint(headers.length);
  for (const h of headers) {
    writeBytes(out, h.key);
    writeBytes(out, h.value);
  }
}

function writeBytes(out: Out, b: Uint8Array | null): void {
  if (b === null) {
    out.varint(-1);
    return;
  }
  out.varint(b.length);
  out.buf.set(b, out.pos);
  out.pos += b.length;
}

function bytesSize(b: Uint8Array | null): number {
  return b === null ? 1 : varintSize(b.length) + b.length;
}

/** Bytes of Out.varint(v): zigzag, then 7 bits a byte. */
function varintSize(v: number): number {
  const n = v >= 0 ? v * 2 : -v * 2 - 1;
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let size = 5;
  for (let m = Math.floor(n / 2 ** 35); m > 0; m = Math.floor(m / 0x80)) size++;
  return size;
}
