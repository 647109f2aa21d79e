import net from 'node:net';
import { Reader } from '../broker-runtime/src/kafka/protocol/reader.js';
import { Writer } from '../broker-runtime/src/kafka/protocol/writer.js';
import { crc32c } from '../broker-runtime/src/kafka/protocol/crc32c.js';

/**
 * A raw Kafka connection for tests that must send what no well-behaved client sends (hostile
 * frames) or read one field of an answer (a follower's error code). Uses the broker's own
 * Reader/Writer only to build and read bytes; the broker under test is a real process.
 */
export class KafkaWire {
  private buf = Buffer.alloc(0);
  private waiting: ((frame: Buffer) => void) | null = null;
  closed: Promise<void>;
  private correlation = 1;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.deliver();
    });
    socket.on('error', () => {});
    this.closed = new Promise((r) => socket.once('close', () => r()));
  }

  static connect(port: number): Promise<KafkaWire> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new KafkaWire(s)));
      s.once('error', reject);
    });
  }

  private deliver(): void {
    if (!this.waiting || this.buf.length < 4) return;
    const size = this.buf.readInt32BE(0);
    if (this.buf.length < 4 + size) return;
    const frame = this.buf.subarray(4, 4 + size);
    this.buf = this.buf.subarray(4 + size);
    const w = this.waiting;
    this.waiting = null;
    w(frame);
  }

  /** Sends raw bytes as they are. */
  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** A request frame: header v1 (api key, version, correlation id, client id "wire-test") and `body`. */
  frame(apiKey: number, version: number, body: Buffer): Buffer {
    const w = new Writer().int16(apiKey).int16(version).int32(this.correlation++).string('wire-test').raw(body);
    const payload = w.toBuffer();
    const head = Buffer.alloc(4);
    head.writeInt32BE(payload.length);
    return Buffer.concat([head, payload]);
  }

  /** The next frame's bytes, or a rejection after `timeoutMs` or when the connection closes. */
  private nextFrame(timeoutMs: number): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no answer in time')), timeoutMs);
      this.waiting = (f) => {
        clearTimeout(t);
        resolve(f);
      };
      // The timer goes with the connection: left running, it kept the test's process alive for up to timeoutMs.
      this.closed.then(() => {
        clearTimeout(t);
        reject(new Error('connection closed'));
      });
    });
  }

  /** Sends a request and reads its answer's body (after the correlation id). */
  async request(apiKey: number, version: number, body: Buffer, timeoutMs = 15_000): Promise<Reader> {
    const answer = this.nextFrame(timeoutMs);
    this.write(this.frame(apiKey, version, body));
    this.deliver();
    const r = new Reader(await answer);
    r.int32(); // correlation id
    return r;
  }

  /** Sends `payload` size-prefixed as it is (no request header) and resolves with the next frame's bytes. */
  async bare(payload: Buffer, timeoutMs = 15_000): Promise<Buffer> {
    const answer = this.nextFrame(timeoutMs);
    const head = Buffer.alloc(4);
    head.writeInt32BE(payload.length);
    this.write(Buffer.concat([head, payload]));
    this.deliver();
    return answer;
  }

  /** The next `n` answers as they arrive: [correlation id, body]. */
  async answers(n: number, timeoutMs = 15_000): Promise<[number, Reader][]> {
    const out: [number, Reader][] = [];
    for (let i = 0; i < n; i++) {
      const frame = await new Promise<Buffer>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`answer ${i} of ${n} not in time`)), timeoutMs);
        this.waiting = (f) => {
          clearTimeout(t);
          resolve(f);
        };
        this.deliver();
      });
      const r = new Reader(frame);
      out.push([r.int32(), r]);
    }
    return out;
  }

  /** Resolves true when the broker closes the connection within `ms`. */
  async closedWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
    return Promise.race([this.closed.then(() => true), late]).finally(() => clearTimeout(timer));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A Produce v3 body for one partition with `records` (a RecordBatch v2 as bytes), acks -1. */
export function produceBody(topic: string, partition: number, records: Buffer, acks = -1): Buffer {
  return new Writer()
    .nullableString(null)
    .int16(acks)
    .int32(10_000)
    .array([topic], (w, t) => w.string(t).array([partition], (w, p) => w.int32(p).nullableBytes(records)))
    .toBuffer();
}

/** The first partition's error code and base offset of a Produce v3 answer. */
export function produceAnswer(r: Reader): { error: number; baseOffset: number } {
  r.int32(); // topics
  r.string();
  r.int32(); // partitions
  r.int32(); // index
  const error = r.int16();
  return { error, baseOffset: r.int64() };
}

/** A Fetch v4 body for one partition from `offset`, waiting up to `maxWaitMs` for at least a byte. */
export function fetchBody(topic: string, partition: number, offset: number, maxWaitMs: number): Buffer {
  return new Writer()
    .int32(-1)
    .int32(maxWaitMs)
    .int32(1)
    .int32(1 << 20)
    .int8(1)
    .array([topic], (w, t) => w.string(t).array([partition], (w, p) => w.int32(p).int64(offset).int32(1 << 20)))
    .toBuffer();
}

/** The first partition of a Fetch v4 answer: error, high-water mark and its record batches' bytes. */
export function fetchAnswer(r: Reader): { error: number; hwm: number; records: Buffer } {
  r.int32(); // throttle
  r.int32(); // topics
  r.string();
  r.int32(); // partitions
  r.int32(); // index
  const error = r.int16();
  const hwm = r.int64();
  r.int64(); // last stable offset
  r.int32(); // aborted transactions (null)
  return { error, hwm, records: r.bytes() };
}

/**
 * `batch` (a RecordBatch v2 from encodeBatch) as an idempotent producer's: producer id, epoch and
 * base sequence written in, CRC-32C computed again, as KafkaJS and librdkafka send them.
 */
export function asIdempotent(batch: Buffer, producerId: number, producerEpoch: number, baseSequence: number): Buffer {
  const out = Buffer.from(batch);
  out.writeBigInt64BE(BigInt(producerId), 43);
  out.writeInt16BE(producerEpoch, 51);
  out.writeInt32BE(baseSequence, 53);
  out.writeUInt32BE(crc32c(out.subarray(21)), 17);
  return out;
}

/** An InitProducerId v1 body for an idempotent (not transactional) producer. */
export function initProducerIdBody(): Buffer {
  return new Writer().nullableString(null).int32(60_000).toBuffer();
}

/** An InitProducerId v0/v1 answer. */
export function initProducerIdAnswer(r: Reader): { error: number; producerId: number; producerEpoch: number } {
  r.int32(); // throttle
  const error = r.int16();
  return { error, producerId: r.int64(), producerEpoch: r.int16() };
}
