/**
 * The messages of the replication stream (an HTTP connection upgraded to `yak-replication/1`,
 * see stream-transport.ts and http/replica-stream.ts), the same shape in both directions:
 *
 *   u32 length of what follows (big-endian) | u32 id | u16 meta length | meta | body
 *
 * Leader -> follower: meta = the x-yak-frame-auth value of the frame (`<epoch>.<mac>`), body = the
 * replication frame exactly as POST /replica/append carries it (replication/wire.ts).
 * Follower -> leader: meta = the HTTP status the same frame would have been answered with, as
 * ASCII digits; body = the answer frame (200: its JSON, then the follower's signature line when the
 * frame asked for one, answer-auth.ts) or the JSON error (anything else).
 * The id is the leader's: an answer carries the id of the frame it answers, so answers may come
 * back in any order.
 */
export interface StreamMessage {
  id: number;
  meta: Buffer;
  body: Buffer;
}

/** length + id + meta length. */
export const MESSAGE_HEADER_BYTES = 4 + 4 + 2;
/** Meta is an auth value (at most 128 characters are valid) or a status: anything longer is garbage. */
export const MAX_META_BYTES = 256;
export const MAX_MESSAGE_ID = 0xffffffff;

/** The peer broke the framing: the connection cannot be trusted to stay in step and is closed. */
export class StreamProtocolError extends Error {}

export function encodeMessage(id: number, meta: Buffer | string, body: Buffer): Buffer[] {
  const metaBytes = typeof meta === 'string' ? Buffer.from(meta, 'latin1') : meta;
  if (!Number.isInteger(id) || id < 0 || id > MAX_MESSAGE_ID) throw new RangeError(`message id ${id} is not a u32`);
  if (metaBytes.length > MAX_META_BYTES) throw new RangeError(`message meta of ${metaBytes.length} bytes exceeds ${MAX_META_BYTES}`);
  const head = Buffer.allocUnsafe(MESSAGE_HEADER_BYTES + metaBytes.length);
  head.writeUInt32BE(4 + 2 + metaBytes.length + body.length, 0);
  head.writeUInt32BE(id, 4);
  head.writeUInt16BE(metaBytes.length, 8);
  metaBytes.copy(head, MESSAGE_HEADER_BYTES);
  // Two buffers, written with one writev (cork/uncork): the body is never copied.
  return body.length > 0 ? [head, body] : [head];
}

/**
 * Cuts a byte stream into messages, whatever the chunking (a message split over many reads, many
 * messages in one read). A declared length above `maxMessageBytes` (meta and body) or a meta
 * longer than MAX_META_BYTES throws StreamProtocolError before any of it is buffered, so a
 * hostile peer cannot make this side hold more than one bounded message.
 */
export class MessageReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Length of the message being read (after its 4 length bytes), once known. */
  private need = -1;

  constructor(private readonly maxMessageBytes: number) {}

  /** Feeds a chunk; answers every message it completes, in order. */
  push(chunk: Buffer): StreamMessage[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: StreamMessage[] = [];
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < 4) break;
        const length = this.peekLength();
        if (length < 6) throw new StreamProtocolError(`message length ${length} is shorter than its own header`);
        if (length - 6 > this.maxMessageBytes) throw new StreamProtocolError(`message of ${length - 6} bytes exceeds the limit of ${this.maxMessageBytes}`);
        this.take(4);
        this.need = length;
      }
      if (this.buffered < this.need) break;
      const bytes = this.take(this.need);
      this.need = -1;
      out.push(parseMessage(bytes));
    }
    return out;
  }

  /** Bytes held for a message not complete yet. */
  pendingBytes(): number {
    return this.buffered;
  }

  private peekLength(): number {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readUInt32BE(0);
    return this.take(4, false).readUInt32BE(0);
  }

  /** The first `n` buffered bytes as one buffer; consumed unless `consume` is false. */
  private take(n: number, consume = true): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (consume) {
        if (first.length === n) this.chunks.shift();
        else this.chunks[0] = first.subarray(n);
      }
    } else {
      out = Buffer.allocUnsafe(n);
      let at = 0;
      let i = 0;
      while (at < n) {
        const c = this.chunks[i]!;
        const k = Math.min(c.length, n - at);
        c.copy(out, at, 0, k);
        at += k;
        if (consume) {
          if (k === c.length) this.chunks.shift();
          else this.chunks[0] = c.subarray(k);
        } else i++;
      }
    }
    if (consume) this.buffered -= n;
    return out;
  }
}

function parseMessage(bytes: Buffer): StreamMessage {
  const id = bytes.readUInt32BE(0);
  const metaLength = bytes.readUInt16BE(4);
  if (metaLength > MAX_META_BYTES) throw new StreamProtocolError(`message meta of ${metaLength} bytes exceeds ${MAX_META_BYTES}`);
  if (6 + metaLength > bytes.length) throw new StreamProtocolError(`message meta of ${metaLength} bytes runs past the message (${bytes.length - 6} bytes)`);
  return { id, meta: bytes.subarray(6, 6 + metaLength), body: bytes.subarray(6 + metaLength) };
}
