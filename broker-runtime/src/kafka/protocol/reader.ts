import { KafkaDecodeError } from './decode-error.js';

const TWO_POW_32 = 2 ** 32;

/**
 * Reads Kafka's primitive types (big-endian ints, zigzag varints, strings, bytes, arrays, compact
 * forms and tagged fields of flexible versions) from one request frame. Every read is bounds
 * checked and throws KafkaDecodeError past the end; counts are checked against the bytes left, so
 * a hostile count cannot make us allocate more than the frame holds.
 */
export class Reader {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  get offset(): number {
    return this.pos;
  }

  remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.buf.length) throw new KafkaDecodeError(`${what}: needs ${n} byte(s) at ${this.pos}, the frame has ${this.buf.length}`);
  }

  int8(): number {
    this.need(1, 'int8');
    return this.buf.readInt8(this.pos++);
  }

  boolean(): boolean {
    return this.int8() !== 0;
  }

  int16(): number {
    this.need(2, 'int16');
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4, 'int32');
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint32(): number {
    this.need(4, 'uint32');
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** An int64 as a number; values outside ±2^53 are refused (offsets and timestamps never get there). */
  int64(): number {
    this.need(8, 'int64');
    const hi = this.buf.readInt32BE(this.pos);
    const lo = this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    const v = hi * TWO_POW_32 + lo;
    if (!Number.isSafeInteger(v)) throw new KafkaDecodeError(`int64 ${v} is outside the range this broker handles`);
    return v;
  }

  /** Unsigned varint (LEB128), at most 5 bytes (32 bits). */
  uvarint(): number {
    // One or two bytes (values below 16384) are most of a record's lengths and deltas: read them
    // without the general loop, which was the broker's largest cost of decoding a produced batch.
    const buf = this.buf;
    const p = this.pos;
    if (p + 1 < buf.length) {
      const b0 = buf[p]!;
      if (b0 < 0x80) {
        this.pos = p + 1;
        return b0;
      }
      const b1 = buf[p + 1]!;
      if (b1 < 0x80) {
        this.pos = p + 2;
        return (b0 & 0x7f) | (b1 << 7);
      }
    }
    let value = 0;
    for (let shift = 0; shift <= 28; shift += 7) {
      this.need(1, 'varint');
      const b = this.buf[this.pos++]!;
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (value > 0xffffffff) break;
        return value;
      }
    }
    throw new KafkaDecodeError('varint longer than 5 bytes or over 32 bits');
  }

  /** Zigzag varint (signed 32 bits). */
  varint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  /** Zigzag varlong; refused past 2^53 (numbers stay exact). */
  varlong(): number {
    let value = 0;
    for (let shift = 0; shift <= 49; shift += 7) {
      this.need(1, 'varlong');
      const b = this.buf[this.pos++]!;
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(value)) break;
        return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
      }
    }
    throw new KafkaDecodeError('varlong too long or beyond 2^53');
  }

  raw(n: number, what = 'bytes'): Buffer {
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  private text(n: number): string {
    const bytes = this.raw(n, 'string');
    return bytes.toString('utf8');
  }

  string(): string {
    const s = this.nullableString();
    if (s === null) throw new KafkaDecodeError('a string field is null');
    return s;
  }

  nullableString(): string | null {
    const n = this.int16();
    if (n < -1) throw new KafkaDecodeError(`string length ${n}`);
    return n === -1 ? null : this.text(n);
  }

  compactString(): string {
    const s = this.compactNullableString();
    if (s === null) throw new KafkaDecodeError('a compact string field is null');
    return s;
  }

  compactNullableString(): string | null {
    const n = this.uvarint();
    return n === 0 ? null : this.text(n - 1);
  }

  nullableBytes(): Buffer | null {
    const n = this.int32();
    if (n < -1) throw new KafkaDecodeError(`bytes length ${n}`);
    return n === -1 ? null : this.raw(n);
  }

  bytes(): Buffer {
    const b = this.nullableBytes();
    if (b === null) throw new KafkaDecodeError('a bytes field is null');
    return b;
  }

  /** int32 count, then `item` per element; null for -1. Each element takes at least one byte. */
  nullableArray<T>(item: (r: Reader) => T): T[] | null {
    const n = this.int32();
    if (n === -1) return null;
    return this.items(n, item);
  }

  array<T>(item: (r: Reader) => T): T[] {
    const a = this.nullableArray(item);
    if (a === null) throw new KafkaDecodeError('an array field is null');
    return a;
  }

  compactArray<T>(item: (r: Reader) => T): T[] {
    const n = this.uvarint();
    if (n === 0) throw new KafkaDecodeError('a compact array field is null');
    return this.items(n - 1, item);
  }

  private items<T>(n: number, item: (r: Reader) => T): T[] {
    if (n < 0 || n > this.remaining()) throw new KafkaDecodeError(`array count ${n} with ${this.remaining()} byte(s) left`);
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = item(this);
    return out;
  }

  /** Tagged fields of a flexible version: none of them means anything to this broker, so they are skipped. */
  skipTaggedFields(): void {
    const n = this.uvarint();
    if (n > this.remaining()) throw new KafkaDecodeError(`tagged field count ${n} with ${this.remaining()} byte(s) left`);
    for (let i = 0; i < n; i++) {
      this.uvarint();
      this.raw(this.uvarint(), 'tagged field');
    }
  }
}
