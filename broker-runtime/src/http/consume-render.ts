import type { ConsumeResult, EncodedConsumeResult } from '../broker/service.js';
import { RECORD_OVERHEAD_BYTES, recordLayoutAt, recordSizeAt } from '../log/record-codec.js';

/**
 * The consume answer as JSON text. Payloads are stored as JSON text already, so they are spliced
 * in as they are; only keys and headers go through JSON.stringify. Nothing is re-parsed.
 */
export function renderConsume(result: ConsumeResult): string {
  let records = '';
  for (const r of result.records) {
    if (records.length > 0) records += ',';
    records +=
      `{"offset":${num(r.offset)},"key":${r.key === null ? 'null' : JSON.stringify(r.key)}` +
      `,"payload":${r.payload.length > 0 ? r.payload : 'null'},"timestamp":${num(r.timestamp)}` +
      `,"headers":${JSON.stringify(r.headers)}}`;
  }
  return (
    `{"topic":${JSON.stringify(result.topic)},"partition":${num(result.partition)},"records":[${records}]` +
    `,"next_offset":${num(result.next_offset)},"high_watermark":${num(result.high_watermark)}}`
  );
}

/**
 * The consume answer written straight from the stored records into one Buffer, byte for byte the
 * same JSON as renderConsume (above) gives for the decoded records. Payloads and headers
 * are stored as the JSON text that JSON.stringify made of them when they were produced, so they are
 * copied as bytes: nothing is decoded to a string, concatenated and encoded again. That halves the
 * cost of a large answer and leaves next to nothing for the garbage collector (GC was ~20% of a
 * leader's busy time while it served consumers from strings).
 * This is the one walk over the records: it finds their count, the next offset and the payload
 * bytes, and reports the count and bytes to the broker (`result.served`).
 */
export function renderEncodedConsume(result: EncodedConsumeResult): Buffer {
  let stored = 0;
  for (const chunk of result.records) stored += chunk.length;
  // Per record the JSON adds at most ~64 bytes more than the stored header it replaces (field
  // names, up to 16 offset and 17 timestamp digits), and no record is shorter than its header, so
  // this size is enough unless a key needs escaping (the pages past what is written are never touched).
  const out = new Writer(stored + Math.ceil(stored / RECORD_OVERHEAD_BYTES) * 64 + 256);
  out.ascii(`{"topic":${JSON.stringify(result.topic)},"partition":${num(result.partition)},"records":[`);
  let first = true;
  let count = 0;
  let payloadBytes = 0;
  // Compacted topics have gaps in their offsets: with no record read below the high-water mark
  // (only gaps lay there), the next offset is the high-water mark; else it follows the last record read.
  let next = Math.max(result.offset, result.high_watermark);
  for (const chunk of result.records) {
    for (let pos = 0; pos < chunk.length; ) {
      const size = recordSizeAt(chunk, pos);
      if (size < 0) throw new Error(`consume answer: partial or impossible record at byte ${pos} of a stored chunk`);
      const r = recordLayoutAt(chunk, pos, size);
      out.ascii(first ? '{"offset":' : ',{"offset":');
      first = false;
      out.number(r.offset);
      out.ascii(',"key":');
      if (r.keyLength < 0) out.ascii('null');
      else if (plainAscii(chunk, r.keyStart, r.keyStart + r.keyLength)) {
        // Nothing to escape: the key's JSON string is its bytes between quotes.
        out.ascii('"');
        out.copy(chunk, r.keyStart, r.keyStart + r.keyLength);
        out.ascii('"');
      } else out.utf8(JSON.stringify(chunk.toString('utf8', r.keyStart, r.keyStart + r.keyLength)));
      out.ascii(',"payload":');
      payloadBytes += r.end - r.payloadStart;
      if (r.end > r.payloadStart) out.copy(chunk, r.payloadStart, r.end);
      else out.ascii('null');
      out.ascii(',"timestamp":');
      out.number(r.timestamp);
      out.ascii(',"headers":');
      if (r.headersLength > 0) out.copy(chunk, r.headersStart, r.headersStart + r.headersLength);
      else out.ascii('{}');
      out.ascii('}');
      count++;
      next = r.offset + 1;
      pos += size;
    }
  }
  out.ascii(`],"next_offset":${num(next)},"high_watermark":${num(result.high_watermark)}}`);
  result.served(count, payloadBytes);
  return out.done();
}

/** Printable ASCII without `"` and `\`: bytes JSON.stringify would leave as they are. */
function plainAscii(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b < 0x20 || b > 0x7e || b === 0x22 || b === 0x5c) return false;
  }
  return true;
}

/** A number as JSON (NaN and Infinity are not JSON). */
function num(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/**
 * An output buffer that grows by doubling (sized from the stored bytes, it rarely has to). Short
 * pieces are written byte by byte in JS: each Buffer.write or Buffer.copy call into C++ costs more
 * than copying a few dozen bytes, and an answer is made of ~10 short pieces per record.
 */
class Writer {
  private buf: Buffer;
  private at = 0;

  constructor(initial: number) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** `text` must be ASCII (field names, digits, JSON punctuation). */
  ascii(text: string): void {
    const n = text.length;
    this.ensure(n);
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < n; i++) buf[at++] = text.charCodeAt(i);
    this.at = at;
  }

  /** A number as JSON, as String(n) writes it; safe non-negative integers digit by digit. */
  number(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) {
      this.ascii(num(n));
      return;
    }
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    this.ensure(digits);
    let at = this.at + digits;
    this.at = at;
    let x = n;
    do {
      this.buf[--at] = 48 + (x % 10);
      x = Math.floor(x / 10);
    } while (x > 0);
  }

  utf8(text: string): void {
    this.ensure(Buffer.byteLength(text));
    this.at += this.buf.write(text, this.at, 'utf8');
  }

  copy(src: Buffer, start: number, end: number): void {
    const n = end - start;
    this.ensure(n);
    if (n > SHORT_COPY) {
      this.at += src.copy(this.buf, this.at, start, end);
      return;
    }
    const buf = this.buf;
    let at = this.at;
    for (let i = start; i < end; i++) buf[at++] = src[i]!;
    this.at = at;
  }

  done(): Buffer {
    return this.buf.subarray(0, this.at);
  }

  private ensure(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }
}

/** Up to this many bytes, a JS loop copies faster than a call into Buffer.copy. */
const SHORT_COPY = 64;
