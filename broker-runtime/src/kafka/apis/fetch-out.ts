const TWO_POW_32 = 2 ** 32;

/** Shorter fields are copied by a loop: below this a native copy costs more in call overhead than it saves. */
const COPY_LOOP_BELOW = 48;

/**
 * A growing output buffer written in place: the per-record work here is a handful of small fields,
 * where Writer's general methods (a bounds check and a call per field) were a third of the cost.
 */
export class Out {
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
