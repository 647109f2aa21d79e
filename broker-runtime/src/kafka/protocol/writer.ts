const TWO_POW_32 = 2 ** 32;

/**
 * Writes Kafka's primitive types into a growing buffer. Responses are built whole, then framed
 * (size prefix) by the connection.
 */
export class Writer {
  private buf: Buffer;
  private pos = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  get length(): number {
    return this.pos;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  int8(v: number): this {
    this.room(1);
    this.buf.writeInt8(v, this.pos++);
    return this;
  }

  boolean(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }

  int16(v: number): this {
    this.room(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  int32(v: number): this {
    this.room(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  uint32(v: number): this {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  int64(v: number): this {
    this.room(8);
    const hi = Math.floor(v / TWO_POW_32);
    this.buf.writeInt32BE(hi, this.pos);
    this.buf.writeUInt32BE(v - hi * TWO_POW_32, this.pos + 4);
    this.pos += 8;
    return this;
  }

  uvarint(v: number): this {
    this.room(10);
    let n = v;
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
    return this;
  }

  /** Zigzag varint / varlong: exact for -2^52 <= v < 2^52 (what Reader.varlong reads back). */
  varint(v: number): this {
    return this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  varlong(v: number): this {
    return this.varint(v);
  }

  raw(bytes: Uint8Array): this {
    this.room(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  string(s: string): this {
    const len = Buffer.byteLength(s, 'utf8');
    this.int16(len);
    this.room(len);
    this.buf.write(s, this.pos, 'utf8');
    this.pos += len;
    return this;
  }

  nullableString(s: string | null): this {
    return s === null ? this.int16(-1) : this.string(s);
  }

  compactString(s: string): this {
    const len = Buffer.byteLength(s, 'utf8');
    this.uvarint(len + 1);
    this.room(len);
    this.buf.write(s, this.pos, 'utf8');
    this.pos += len;
    return this;
  }

  bytes(b: Uint8Array): this {
    return this.int32(b.length).raw(b);
  }

  nullableBytes(b: Uint8Array | null): this {
    if (b === null) return this.int32(-1);
    return this.int32(b.length).raw(b);
  }

  array<T>(items: readonly T[], each: (w: Writer, item: T) => void): this {
    this.int32(items.length);
    for (const item of items) each(this, item);
    return this;
  }

  compactArray<T>(items: readonly T[], each: (w: Writer, item: T) => void): this {
    this.uvarint(items.length + 1);
    for (const item of items) each(this, item);
    return this;
  }

  /** No tagged fields. */
  emptyTaggedFields(): this {
    return this.uvarint(0);
  }

  /** Overwrite 4 bytes at `at` (a length or CRC written once what it covers is known). */
  patchUint32(at: number, v: number): void {
    this.buf.writeUInt32BE(v >>> 0, at);
  }

  patchInt32(at: number, v: number): void {
    this.buf.writeInt32BE(v, at);
  }

  /** Start over, keeping the memory. */
  reset(): void {
    this.pos = 0;
  }

  view(from = 0, to = this.pos): Buffer {
    return this.buf.subarray(from, to);
  }

  /** The bytes written, as a buffer of their own. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}
