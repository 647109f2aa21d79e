import { InvalidBatchError } from '../../log/record-codec.js';
import type { KafkaHeader } from '../protocol/record-batch.js';
import { RESERVED_PREFIX, toOutgoingRecord } from '../record-mapping.js';
import type { Out } from './fetch-out.js';

/**
 * Stored plain records (log/types.ts) written as Kafka records (record-batch.ts), from their bytes:
 * the Fetch path's per-record work (fetch-batches.ts puts them in batches). The mapping is
 * record-mapping.ts's toOutgoingRecord, done on byte ranges where the stored bytes already are
 * the Kafka bytes, and by toOutgoingRecord itself where they are not (escaped JSON, `yak.headers`).
 */

// Byte positions in a stored record (log/types.ts): length, crc, offset, epoch, timestamp, keyLength, key.
const KEY_LENGTH_AT = 28;
const KEY_AT = 32;

/**
 * One Kafka record from the stored plain record at `pos` (`size` bytes): key, value and headers
 * copied from the stored bytes when no `yak.*` marker is among the headers (the stored key is the
 * Kafka key's UTF-8, the payload the value's bytes), else mapped by toOutgoingRecord.
 */
export function writeStoredRecord(out: Out, buf: Buffer, pos: number, size: number, offsetDelta: number, tsDelta: number): void {
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
      writeRecordHead(out, length, tsDelta, offsetDelta, key, value);
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
  writeRecordHead(out, length, tsDelta, offsetDelta, key, value);
  out.varint(headers.length);
  for (const h of headers) {
    writeBytes(out, h.key);
    writeBytes(out, h.value);
  }
}

/** A v2 record's length, attributes, deltas, key and value (its headers follow), room made for all of `length`. */
function writeRecordHead(out: Out, length: number, tsDelta: number, offsetDelta: number, key: Uint8Array | null, value: Uint8Array | null): void {
  out.ensure(length + 5);
  out.varint(length);
  out.buf[out.pos++] = 0; // attributes
  out.varint(tsDelta);
  out.varint(offsetDelta);
  writeBytes(out, key);
  writeBytes(out, value);
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
