import net from 'node:net';
import tls from 'node:tls';
import { Reader } from '../broker-runtime/src/kafka/protocol/reader.js';
import { Writer } from '../broker-runtime/src/kafka/protocol/writer.js';
import type { ConnectionSecurity } from './http-conn.js';

/**
 * A minimal pipelined Kafka-protocol client on one socket: requests carry a correlation id and
 * answers are matched back in order (Kafka answers a connection's requests in the order sent).
 * With a token it authenticates first with SASL/PLAIN (SaslHandshake v1 + SaslAuthenticate v1),
 * over TLS when the brokers use it — as a real Kafka client would. Like http-conn.ts it exists to
 * spend as little client CPU as possible on a machine the brokers share.
 */
export class KafkaConnection {
  private buf: Buffer = Buffer.alloc(0);
  private readonly pending: { resolve: (r: Reader) => void; reject: (e: Error) => void }[] = [];
  private correlation = 0;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => this.onData(d));
    const fail = (err: Error) => {
      for (const p of this.pending.splice(0)) p.reject(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the Kafka connection closed')));
  }

  static async open(port: number, security: ConnectionSecurity): Promise<KafkaConnection> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = security.ca ? tls.connect({ port, host: '127.0.0.1', ca: security.ca }, () => resolve(s)) : net.connect(port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    socket.setNoDelay(true);
    const c = new KafkaConnection(socket);
    if (security.token) {
      const [user, ...rest] = security.token.split(':');
      const handshake = await c.request(17, 1, new Writer().string('PLAIN').toBuffer());
      if (handshake.int16() !== 0) throw new Error('SaslHandshake refused PLAIN');
      const auth = await c.request(36, 1, new Writer().nullableBytes(Buffer.from(`\0${user}\0${rest.join(':')}`)).toBuffer());
      const code = auth.int16();
      if (code !== 0) throw new Error(`SASL/PLAIN failed: ${code} ${auth.nullableString()}`);
    }
    return c;
  }

  /** Sends a request (header v1) and resolves with its answer's body. */
  request(apiKey: number, version: number, body: Buffer): Promise<Reader> {
    const head = new Writer(32).int32(0).int16(apiKey).int16(version).int32(this.correlation++).string('yak-bench');
    const frame = Buffer.concat([head.toBuffer(), body]);
    frame.writeInt32BE(frame.length - 4, 0);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.write(frame);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    while (this.buf.length >= 4) {
      const size = this.buf.readInt32BE(0);
      if (this.buf.length < 4 + size) return;
      const frame = this.buf.subarray(4, 4 + size);
      this.buf = this.buf.subarray(4 + size);
      const r = new Reader(frame);
      r.int32(); // correlation id: answers come in request order
      this.pending.shift()?.resolve(r);
    }
  }
}
