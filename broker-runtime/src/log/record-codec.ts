import { crc32 } from 'node:zlib';
import { CompressionError, MAX_UNCOMPRESSED_BATCH_BYTES, codecById, type Codec } from './compression/codecs.js';
import type { EpochEntry, RecordInput, StoredRecord } from './types.js';

/**
 * The on-disk / on-wire record format described in types.ts. One Buffer per append: sizes are
 * computed first, the buffer is allocated once and every field written in place.
 */

/** The u32 length prefix. */
export const LENGTH_FIELD_BYTES = 4;
/** Smallest legal `length`: crc + offset + epoch + timestamp + keyLength + headersLength. */
export const MIN_RECORD_LENGTH = 4 + 8 + 4 + 8 + 4 + 4;
/** Bytes of a record around its key, headers and payload (length field included). */
export const RECORD_OVERHEAD_BYTES = LENGTH_FIELD_BYTES + MIN_RECORD_LENGTH;
/** Any `length` above this is corruption, not a record (requests are capped far below it). */
export const MAX_RECORD_LENGTH = 64 * 1024 * 1024;

const CRC_FIELD = 4; // crc sits right after the length field
const OFFSET_AT = 8;
const EPOCH_AT = 16;
const TIMESTAMP_AT = 20;
const KEY_LENGTH_AT = 28;
const KEY_AT = 32;
const TWO_POW_32 = 2 ** 32;
/** Records store their leader epoch as a u32: the largest epoch the log can hold. */
export const MAX_LEADER_EPOCH = TWO_POW_32 - 1;
const MAX_EPOCH = MAX_LEADER_EPOCH;

/** A leader's batch (or stored bytes) that is not a clean run of records. Changes nothing. */
export class InvalidBatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidBatchError';
  }
}

function headersText(headers: Record<string, string>): string {
  for (const _ in headers) return JSON.stringify(headers);
  return '';
}

/** Encode `records` with consecutive offsets from `baseOffset`, all stamped with `epoch`. */
export function encodeRecords(records: readonly RecordInput[], baseOffset: number, epoch: number): Buffer {
  if (!Number.isSafeInteger(baseOffset) || baseOffset < 0) throw new RangeError(`invalid base offset ${baseOffset}`);
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > MAX_EPOCH) throw new RangeError(`invalid leader epoch ${epoch}`);
  const n = records.length;
  const headerTexts: string[] = new Array<string>(n);
  const keyLengths = new Int32Array(n);
  const headerLengths = new Uint32Array(n);
  const recordLengths = new Uint32Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    const keyLength = r.key === null ? -1 : Buffer.byteLength(r.key, 'utf8');
    const text = headersText(r.headers);
    const headerLength = text.length === 0 ? 0 : Buffer.byteLength(text, 'utf8');
    const length = MIN_RECORD_LENGTH + Math.max(keyLength, 0) + headerLength + (r.payloadBytes !== undefined ? r.payloadBytes.length : Buffer.byteLength(r.payload, 'utf8'));
    if (length > MAX_RECORD_LENGTH) throw new RangeError(`record of ${length} bytes is over the ${MAX_RECORD_LENGTH}-byte limit`);
    headerTexts[i] = text;
    keyLengths[i] = keyLength;
    headerLengths[i] = headerLength;
    recordLengths[i] = length;
    total += LENGTH_FIELD_BYTES + length;
  }

  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    const offset = baseOffset + i;
    const length = recordLengths[i]!;
    const end = pos + LENGTH_FIELD_BYTES + length;
    buf.writeUInt32BE(length, pos);
    buf.writeUInt32BE(Math.floor(offset / TWO_POW_32), pos + OFFSET_AT);
    buf.writeUInt32BE(offset >>> 0, pos + OFFSET_AT + 4);
    buf.writeUInt32BE(epoch, pos + EPOCH_AT);
    buf.writeDoubleBE(r.timestamp, pos + TIMESTAMP_AT);
    const keyLength = keyLengths[i]!;
    buf.writeInt32BE(keyLength, pos + KEY_LENGTH_AT);
    let p = pos + KEY_AT;
    if (keyLength > 0) p += buf.write(r.key!, p, keyLength, 'utf8');
    const headerLength = headerLengths[i]!;
    buf.writeUInt32BE(headerLength, p);
    p += 4;
    if (headerLength > 0) p += buf.write(headerTexts[i]!, p, headerLength, 'utf8');
    if (end > p) {
      if (r.payloadBytes !== undefined) r.payloadBytes.copy(buf, p);
      else buf.write(r.payload, p, end - p, 'utf8');
    }
    buf.writeUInt32BE(crc32(buf.subarray(pos + LENGTH_FIELD_BYTES + CRC_FIELD, end)), pos + LENGTH_FIELD_BYTES);
    pos = end;
  }
  return buf;
}

/**
 * Size (length field included) of the record starting at `pos`: -1 when `buf` ends before the
 * record does (a torn or not-yet-read tail), -2 when its length field cannot be a record's.
 */
export function recordSizeAt(buf: Buffer, pos: number): number {
  if (pos + LENGTH_FIELD_BYTES > buf.length) return -1;
  const length = buf.readUInt32BE(pos);
  if (length < MIN_RECORD_LENGTH || length > MAX_RECORD_LENGTH) return -2;
  return pos + LENGTH_FIELD_BYTES + length > buf.length ? -1 : LENGTH_FIELD_BYTES + length;
}

/** Offset field of the record at `pos` (its header must be in `buf`). */
export function recordOffsetAt(buf: Buffer, pos: number): number {
  return buf.readUInt32BE(pos + OFFSET_AT) * TWO_POW_32 + buf.readUInt32BE(pos + OFFSET_AT + 4);
}

/** Epoch field of the record at `pos`. */
export function recordEpochAt(buf: Buffer, pos: number): number {
  return buf.readUInt32BE(pos + EPOCH_AT);
}

/** Whether the stored CRC of the complete record at `pos` (of `size` bytes) matches its bytes. */
export function recordCrcMatches(buf: Buffer, pos: number, size: number): boolean {
  const stored = buf.readUInt32BE(pos + LENGTH_FIELD_BYTES);
  return crc32(buf.subarray(pos + LENGTH_FIELD_BYTES + CRC_FIELD, pos + size)) === stored;
}

/** Decode the complete record at `pos` of `size` bytes (see recordSizeAt). */
export function decodeRecordAt(buf: Buffer, pos: number, size: number): StoredRecord {
  const end = pos + size;
  const keyLength = buf.readInt32BE(pos + KEY_LENGTH_AT);
  let p = pos + KEY_AT;
  let key: string | null = null;
  if (keyLength >= 0) {
    if (p + keyLength + 4 > end) throw new InvalidBatchError(`record at byte ${pos}: key length ${keyLength} runs past the record`);
    key = buf.toString('utf8', p, p + keyLength);
    p += keyLength;
  }
  const headerLength = buf.readUInt32BE(p);
  p += 4;
  if (p + headerLength > end) throw new InvalidBatchError(`record at byte ${pos}: headers length ${headerLength} runs past the record`);
  const headers = headerLength === 0 ? {} : (JSON.parse(buf.toString('utf8', p, p + headerLength)) as Record<string, string>);
  p += headerLength;
  return {
    offset: recordOffsetAt(buf, pos),
    epoch: recordEpochAt(buf, pos),
    timestamp: buf.readDoubleBE(pos + TIMESTAMP_AT),
    key,
    headers,
    payload: buf.toString('utf8', p, end),
  };
}

/** Where the fields of the record at `pos` lie in `buf`, without decoding any of them. */
export interface RecordLayout {
  offset: number;
  timestamp: number;
  /** -1 for a null key. */
  keyLength: number;
  keyStart: number;
  headersStart: number;
  /** 0 when the record has no headers (stored as nothing, read as {}). */
  headersLength: number;
  payloadStart: number;
  /** One past the record's last byte (= the payload's end). */
  end: number;
}

/**
 * The layout of the complete record at `pos` of `size` bytes (see recordSizeAt), for callers that
 * copy fields out as bytes (the consume answer splices stored JSON in without decoding it).
 */
export function recordLayoutAt(buf: Buffer, pos: number, size: number): RecordLayout {
  const end = pos + size;
  const keyLength = buf.readInt32BE(pos + KEY_LENGTH_AT);
  const keyStart = pos + KEY_AT;
  const headersField = keyStart + Math.max(keyLength, 0);
  if (headersField + 4 > end) throw new InvalidBatchError(`record at byte ${pos}: key length ${keyLength} runs past the record`);
  const headersLength = buf.readUInt32BE(headersField);
  const headersStart = headersField + 4;
  if (headersStart + headersLength > end) throw new InvalidBatchError(`record at byte ${pos}: headers length ${headersLength} runs past the record`);
  return {
    offset: recordOffsetAt(buf, pos),
    timestamp: buf.readDoubleBE(pos + TIMESTAMP_AT),
    keyLength,
    keyStart,
    headersStart,
    headersLength,
    payloadStart: headersStart + headersLength,
    end,
  };
}

/** Decode every complete record in `buf` (a trailing partial record is ignored). */
export function decodeRecords(buf: Buffer): StoredRecord[] {
  const out: StoredRecord[] = [];
  let pos = 0;
  for (;;) {
    const size = recordSizeAt(buf, pos);
    if (size === -1) return out;
    if (size === -2) throw new InvalidBatchError(`record at byte ${pos}: impossible length ${buf.readUInt32BE(pos)}`);
    out.push(decodeRecordAt(buf, pos, size));
    pos += size;
  }
}

/** Why a scan stopped: `end` means every byte belonged to a valid record. */
export type ScanStop = 'end' | 'torn-length' | 'past-end' | 'bad-length' | 'crc' | 'offset' | 'bad-batch';

export interface ScanResult {
  /** Bytes from the start of the buffer to the end of the last valid record. */
  validBytes: number;
  count: number;
  /** One past the last valid record's offset (the expected offset when there is none; -1 if unknown). */
  nextOffset: number;
  stop: ScanStop;
  /** For torn-length/past-end: the bytes the record at validBytes needs to be complete (4 if even its length is torn). */
  needBytes: number;
}

export interface ScanOptions {
  /** Offset the first record must carry; later ones must follow one by one. Unset: take the first record's. */
  expectedOffset?: number;
  /** Check each CRC (default true). */
  verifyCrc?: boolean;
  /**
   * Called for each valid entry, in order, with its position in `buf`: a plain record (count 1) or
   * a compressed batch covering offsets [offset, offset + count).
   */
  onRecord?: (position: number, size: number, offset: number, epoch: number, count: number) => void;
}

/**
 * Walk `buf` entry by entry (plain records and compressed batches) and report where the last valid
 * one ends and why the walk stopped. `count` counts records (a batch counts its records); a batch's
 * CRC covers its compressed bytes, so corruption is found without decompressing.
 */
export function scanRecords(buf: Buffer, options: ScanOptions = {}): ScanResult {
  const verifyCrc = options.verifyCrc ?? true;
  let expected = options.expectedOffset ?? -1;
  let pos = 0;
  let count = 0;
  const result = (stop: ScanStop, needBytes = 0): ScanResult => ({ validBytes: pos, count, nextOffset: expected, stop, needBytes });
  while (pos < buf.length) {
    if (pos + LENGTH_FIELD_BYTES > buf.length) return result('torn-length', LENGTH_FIELD_BYTES);
    const length = buf.readUInt32BE(pos);
    if (length < MIN_RECORD_LENGTH || length > MAX_RECORD_LENGTH) return result('bad-length');
    const size = LENGTH_FIELD_BYTES + length;
    if (pos + size > buf.length) return result('past-end', size);
    if (verifyCrc && !recordCrcMatches(buf, pos, size)) return result('crc');
    const offset = recordOffsetAt(buf, pos);
    if (expected >= 0 && offset !== expected) return result('offset');
    const n = entryCountAt(buf, pos, size);
    if (n === 0) return result('bad-batch');
    options.onRecord?.(pos, size, offset, recordEpochAt(buf, pos), n);
    expected = offset + n;
    pos += size;
    count += n;
  }
  return result('end');
}

export interface BatchSummary {
  count: number;
  nextOffset: number;
  /** Where the batch starts an epoch: its first record's, and each later change (non-decreasing). */
  epochs: EpochEntry[];
}

const STOP_REASONS: Record<Exclude<ScanStop, 'end'>, string> = {
  'torn-length': 'ends inside a length field',
  'past-end': 'ends inside a record',
  'bad-length': 'has an impossible record length',
  crc: 'has a record whose CRC does not match',
  offset: 'has an offset out of sequence',
  'bad-batch': 'has a compressed batch with an impossible header',
};

/**
 * Check a leader's batch before a follower appends it: every entry whole with a good CRC, offsets
 * contiguous from `expectedOffset` (a compressed batch advancing them by its count), epochs never
 * decreasing, and every compressed batch decompressing (bounded) to the records it claims. Throws
 * InvalidBatchError otherwise. `count` counts records.
 */
export function validateBatch(bytes: Buffer, expectedOffset: number): BatchSummary {
  const epochs: EpochEntry[] = [];
  let lastEpoch = -1;
  let epochError: string | undefined;
  let batchError: string | undefined;
  const scan = scanRecords(bytes, {
    expectedOffset,
    onRecord: (pos, size, offset, epoch) => {
      // A batch's CRC only says the bytes are as the leader wrote them: check they decompress to
      // the records it claims before anything is written (bounded: decompressEntryAt).
      if (batchError === undefined && isCompressedAt(bytes, pos)) {
        try {
          decompressEntryAt(bytes, pos, size);
        } catch (err) {
          batchError = (err as Error).message;
        }
      }
      if (epoch === lastEpoch) return;
      if (epoch < lastEpoch) epochError ??= `record ${offset} has epoch ${epoch} after epoch ${lastEpoch}`;
      epochs.push({ epoch, startOffset: offset });
      lastEpoch = epoch;
    },
  });
  if (scan.stop !== 'end') {
    const at = scan.stop === 'offset' ? ` (expected offset ${scan.nextOffset}, found ${recordOffsetAt(bytes, scan.validBytes)})` : '';
    throw new InvalidBatchError(`batch of ${bytes.length} bytes ${STOP_REASONS[scan.stop]} at byte ${scan.validBytes}, after ${scan.count} valid record(s)${at}`);
  }
  if (batchError !== undefined) throw new InvalidBatchError(`batch has a compressed entry that does not hold what it says: ${batchError}`);
  if (epochError !== undefined) throw new InvalidBatchError(`batch epochs go backwards: ${epochError}`);
  return { count: scan.count, nextOffset: scan.nextOffset, epochs };
}

// ---- compressed batches

/**
 * A compressed batch is one log entry with a record's header and a keyLength no plain record can
 * have (types.ts):
 *
 *   u32 length | u32 crc | u64 baseOffset | u32 epoch | f64 maxTimestamp | i32 -2
 *   u8  codec           Kafka's id (compression/codecs.ts)
 *   u32 count           records inside: the entry covers offsets [baseOffset, baseOffset + count)
 *   u32 plainBytes      size of the records once decompressed
 *   ... compressed      the records, encoded as plain records (encodeRecords), then compressed
 *
 * The CRC covers everything after it, compressed bytes included. One epoch per batch.
 */
export const COMPRESSED_KEY_LENGTH = -2;
const CODEC_AT = KEY_AT;
const COUNT_AT = CODEC_AT + 1;
const PLAIN_BYTES_AT = COUNT_AT + 4;
const COMPRESSED_AT = PLAIN_BYTES_AT + 4;
/** Smallest legal `length` of a compressed batch (its header, no compressed bytes). */
export const MIN_BATCH_LENGTH = COMPRESSED_AT - LENGTH_FIELD_BYTES;
/** Records one batch may hold: more than any produce request (MAX_RECORDS_PER_BATCH is 10,000). */
export const MAX_RECORDS_PER_BATCH = 1 << 20;

/** Whether the entry at `pos` (header in `buf`) is a compressed batch. */
export function isCompressedAt(buf: Buffer, pos: number): boolean {
  return buf.readInt32BE(pos + KEY_LENGTH_AT) === COMPRESSED_KEY_LENGTH;
}

/** Whether the entry at `pos` covers more than its own offset: a compressed batch or a compaction gap (readers that decode records must expand it: expandEntries). */
export function isMultiEntryAt(buf: Buffer, pos: number): boolean {
  const k = buf.readInt32BE(pos + KEY_LENGTH_AT);
  return k === COMPRESSED_KEY_LENGTH || k === GAP_KEY_LENGTH;
}

/** Kafka's id of the codec the compressed batch at `pos` (header in `buf`) is stored with (compression/codecs.ts). */
export function entryCodecIdAt(buf: Buffer, pos: number): number {
  return buf.readUInt8(pos + CODEC_AT);
}

/** Records the whole entry at `pos` of `size` bytes covers: 1 for a plain record, a batch's or a gap's count, 0 for an impossible header. */
export function entryCountAt(buf: Buffer, pos: number, size: number): number {
  const keyLength = buf.readInt32BE(pos + KEY_LENGTH_AT);
  if (keyLength === GAP_KEY_LENGTH) return gapCountAt(buf, pos, size);
  if (keyLength !== COMPRESSED_KEY_LENGTH) return 1;
  if (size < LENGTH_FIELD_BYTES + MIN_BATCH_LENGTH) return 0;
  const count = buf.readUInt32BE(pos + COUNT_AT);
  const plainBytes = buf.readUInt32BE(pos + PLAIN_BYTES_AT);
  if (count < 1 || count > MAX_RECORDS_PER_BATCH || plainBytes < count * RECORD_OVERHEAD_BYTES || plainBytes > MAX_UNCOMPRESSED_BATCH_BYTES) return 0;
  return count;
}

/** One past the last offset the whole entry at `pos` covers (its offset + its count; +1 for a header that is not a batch's). */
export function entryEndOffsetAt(buf: Buffer, pos: number, size: number): number {
  return recordOffsetAt(buf, pos) + Math.max(1, entryCountAt(buf, pos, size));
}

/** Encode `records` (offsets from `baseOffset`, all stamped with `epoch`) as one batch compressed with `codec`. */
export function encodeCompressedBatch(records: readonly RecordInput[], baseOffset: number, epoch: number, codec: Codec): Buffer {
  if (records.length === 0) throw new RangeError('a compressed batch needs at least one record');
  if (records.length > MAX_RECORDS_PER_BATCH) throw new RangeError(`a compressed batch holds at most ${MAX_RECORDS_PER_BATCH} records, got ${records.length}`);
  const plain = encodeRecords(records, baseOffset, epoch);
  if (plain.length > MAX_UNCOMPRESSED_BATCH_BYTES) throw new RangeError(`a batch of ${plain.length} bytes is over the ${MAX_UNCOMPRESSED_BATCH_BYTES}-byte limit for compression`);
  const compressed = codec.compress(plain);
  const length = MIN_BATCH_LENGTH + compressed.length;
  if (length > MAX_RECORD_LENGTH) throw new RangeError(`a compressed batch of ${length} bytes is over the ${MAX_RECORD_LENGTH}-byte limit`);
  let maxTimestamp = Number.NEGATIVE_INFINITY;
  for (const r of records) if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp;
  const buf = Buffer.allocUnsafe(LENGTH_FIELD_BYTES + length);
  buf.writeUInt32BE(length, 0);
  buf.writeUInt32BE(Math.floor(baseOffset / TWO_POW_32), OFFSET_AT);
  buf.writeUInt32BE(baseOffset >>> 0, OFFSET_AT + 4);
  buf.writeUInt32BE(epoch, EPOCH_AT);
  // The newest record's time: what time retention reads from the header (segment-timestamps.ts).
  buf.writeDoubleBE(maxTimestamp, TIMESTAMP_AT);
  buf.writeInt32BE(COMPRESSED_KEY_LENGTH, KEY_LENGTH_AT);
  buf.writeUInt8(codec.id, CODEC_AT);
  buf.writeUInt32BE(records.length, COUNT_AT);
  buf.writeUInt32BE(plain.length, PLAIN_BYTES_AT);
  compressed.copy(buf, COMPRESSED_AT);
  buf.writeUInt32BE(crc32(buf.subarray(LENGTH_FIELD_BYTES + CRC_FIELD)), LENGTH_FIELD_BYTES);
  return buf;
}

/**
 * The plain records inside the compressed batch at `pos` (whole, `size` bytes), checked: a known
 * codec, decompressed to no more than the size the header states (bounded, whatever the bytes),
 * and exactly `count` whole records with good CRCs, offsets from the batch's base, the batch's epoch.
 */
export function decompressEntryAt(buf: Buffer, pos: number, size: number): Buffer {
  const base = recordOffsetAt(buf, pos);
  const what = `compressed batch at offset ${base}`;
  const count = entryCountAt(buf, pos, size);
  if (count === 0) throw new InvalidBatchError(`${what}: impossible header`);
  const id = buf.readUInt8(pos + CODEC_AT);
  const codec = codecById(id);
  if (!codec) throw new InvalidBatchError(`${what}: unknown or unsupported codec id ${id}`);
  const plainBytes = buf.readUInt32BE(pos + PLAIN_BYTES_AT);
  let plain: Buffer;
  try {
    plain = codec.decompress(buf.subarray(pos + COMPRESSED_AT, pos + size), plainBytes);
  } catch (err) {
    if (err instanceof CompressionError) throw new InvalidBatchError(`${what}: ${err.message}`);
    throw err;
  }
  const epoch = recordEpochAt(buf, pos);
  let wrongEpoch = -1;
  const inner = scanRecords(plain, { expectedOffset: base, onRecord: (_p, _s, offset, e, n) => {
    if (n !== 1 && wrongEpoch < 0) wrongEpoch = offset; // batches do not nest
    if (e !== epoch && wrongEpoch < 0) wrongEpoch = offset;
  } });
  if (inner.stop !== 'end') throw new InvalidBatchError(`${what}: its records ${STOP_REASONS[inner.stop]} at byte ${inner.validBytes} of ${plain.length}`);
  if (inner.count !== count) throw new InvalidBatchError(`${what}: holds ${inner.count} record(s), its header says ${count}`);
  if (wrongEpoch >= 0) throw new InvalidBatchError(`${what}: record ${wrongEpoch} is not a plain record of the batch's epoch ${epoch}`);
  return plain;
}

/** Plain records expanded from stored entries: what readers that decode records see. */
export interface ExpandedRecords {
  buffers: Buffer[];
  count: number;
}

/**
 * The plain records with offsets in [from, upTo) of `entries` (whole stored entries, plain and
 * compressed), at most `maxRecords`: compressed batches are decompressed and the records below
 * `from` (a read starting inside a batch) or at/after `upTo` (a batch straddling the high-water
 * mark) cut away. Plain runs are passed on as views, without copying.
 */
export function expandEntries(entries: Buffer, from: number, upTo: number, maxRecords: number): ExpandedRecords {
  const buffers: Buffer[] = [];
  let count = 0;
  let runStart = -1;
  let pos = 0;
  const closeRun = () => {
    if (runStart >= 0) buffers.push(entries.subarray(runStart, pos));
    runStart = -1;
  };
  while (pos < entries.length && count < maxRecords) {
    const size = recordSizeAt(entries, pos);
    if (size < 0) throw new InvalidBatchError(`stored entries: ${size === -1 ? 'a partial entry' : 'an impossible length'} at byte ${pos}`);
    const offset = recordOffsetAt(entries, pos);
    if (offset >= upTo) break;
    if (!isMultiEntryAt(entries, pos)) {
      if (offset >= from) {
        if (runStart < 0) runStart = pos;
        count++;
      } else {
        closeRun();
      }
      pos += size;
      continue;
    }
    closeRun();
    if (isGapAt(entries, pos)) {
      pos += size; // offsets compaction removed: nothing to read
      continue;
    }
    const plain = decompressEntryAt(entries, pos, size);
    let start = -1;
    let end = 0;
    for (let p = 0; p < plain.length && count < maxRecords; ) {
      const s = recordSizeAt(plain, p);
      const o = recordOffsetAt(plain, p);
      if (o >= upTo) break;
      if (o >= from) {
        if (start < 0) start = p;
        end = p + s;
        count++;
      }
      p += s;
    }
    if (start >= 0) buffers.push(plain.subarray(start, end));
    pos += size;
  }
  closeRun();
  return { buffers, count };
}

// ---- compaction gaps

/**
 * A compaction gap is one log entry standing for records that log compaction removed (log/compaction.ts),
 * so every offset of a segment stays covered and offsets keep their numbers:
 *
 *   u32 length (32) | u32 crc | u64 baseOffset | u32 epoch | f64 timestamp | i32 -3 | u32 count
 *
 * It covers offsets [baseOffset, baseOffset + count), all written by `epoch` (a gap never spans an
 * epoch change, so the epochs a scan finds are the ones the removed records had). Readers skip it;
 * replication ships it like any entry, so a follower's offsets run on as the leader's do.
 */
export const GAP_KEY_LENGTH = -3;
const GAP_COUNT_AT = KEY_AT;
const GAP_LENGTH = MIN_RECORD_LENGTH;
/** Bytes of one gap entry, length field included. */
export const GAP_ENTRY_BYTES = LENGTH_FIELD_BYTES + GAP_LENGTH;

/** Whether the entry at `pos` is a compaction gap. */
export function isGapAt(buf: Buffer, pos: number): boolean {
  return buf.readInt32BE(pos + KEY_LENGTH_AT) === GAP_KEY_LENGTH;
}

function gapCountAt(buf: Buffer, pos: number, size: number): number {
  if (size !== GAP_ENTRY_BYTES) return 0;
  const count = buf.readUInt32BE(pos + GAP_COUNT_AT);
  return count >= 1 ? count : 0;
}

/** The gap entry for offsets [baseOffset, baseOffset + count), written by `epoch`; `timestamp` is the newest removed record's. */
export function encodeGap(baseOffset: number, count: number, epoch: number, timestamp: number): Buffer {
  if (!Number.isSafeInteger(baseOffset) || baseOffset < 0) throw new RangeError(`invalid base offset ${baseOffset}`);
  if (!Number.isInteger(count) || count < 1 || count > 0xffffffff) throw new RangeError(`invalid gap length ${count}`);
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > MAX_EPOCH) throw new RangeError(`invalid leader epoch ${epoch}`);
  const buf = Buffer.allocUnsafe(GAP_ENTRY_BYTES);
  buf.writeUInt32BE(GAP_LENGTH, 0);
  buf.writeUInt32BE(Math.floor(baseOffset / TWO_POW_32), OFFSET_AT);
  buf.writeUInt32BE(baseOffset >>> 0, OFFSET_AT + 4);
  buf.writeUInt32BE(epoch, EPOCH_AT);
  buf.writeDoubleBE(timestamp, TIMESTAMP_AT);
  buf.writeInt32BE(GAP_KEY_LENGTH, KEY_LENGTH_AT);
  buf.writeUInt32BE(count, GAP_COUNT_AT);
  buf.writeUInt32BE(crc32(buf.subarray(LENGTH_FIELD_BYTES + CRC_FIELD)), LENGTH_FIELD_BYTES);
  return buf;
}
