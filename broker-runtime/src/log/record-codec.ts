import { crc32 } from 'node:zlib';
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
    const length = MIN_RECORD_LENGTH + Math.max(keyLength, 0) + headerLength + Buffer.byteLength(r.payload, 'utf8');
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
    if (end > p) buf.write(r.payload, p, end - p, 'utf8');
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
export type ScanStop = 'end' | 'torn-length' | 'past-end' | 'bad-length' | 'crc' | 'offset';

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
  /** Called for each valid record, in order, with its position in `buf`. */
  onRecord?: (position: number, size: number, offset: number, epoch: number) => void;
}

/** Walk `buf` record by record and report where the last valid record ends and why the walk stopped. */
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
    options.onRecord?.(pos, size, offset, recordEpochAt(buf, pos));
    expected = offset + 1;
    pos += size;
    count++;
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
};

/**
 * Check a leader's batch before a follower appends it: every record whole with a good CRC, offsets
 * contiguous from `expectedOffset`, epochs never decreasing. Throws InvalidBatchError otherwise.
 */
export function validateBatch(bytes: Buffer, expectedOffset: number): BatchSummary {
  const epochs: EpochEntry[] = [];
  let lastEpoch = -1;
  let epochError: string | undefined;
  const scan = scanRecords(bytes, {
    expectedOffset,
    onRecord: (_pos, _size, offset, epoch) => {
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
  if (epochError !== undefined) throw new InvalidBatchError(`batch epochs go backwards: ${epochError}`);
  return { count: scan.count, nextOffset: scan.nextOffset, epochs };
}
