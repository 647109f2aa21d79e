import net from 'node:net';
import { MessageReader, encodeMessage, type StreamMessage } from '../broker-runtime/src/replication/stream-framing.js';
import { STREAM_PATH, STREAM_PROTOCOL } from '../broker-runtime/src/replication/stream-protocol.js';
import { waitFor } from './wait.js';

/**
 * A raw replication stream (GET /replica/stream upgraded to yak-replication/1) to a broker, as a
 * hostile peer would open one: send any bytes or framed messages, read the broker's answers, see
 * whether it closed the connection. Plain HTTP only (the tests and the chaos forger need no TLS).
 */
export class RawReplicaStream {
  private readonly reader = new MessageReader(1 << 26);
  readonly answers: StreamMessage[] = [];
  closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }

  /** Rejects when the broker answers anything but 101, or cannot be reached within `timeoutMs`. */
  static open(url: string, timeoutMs = 5000): Promise<RawReplicaStream> {
    const u = new URL(url);
    const socket = net.connect(Number(u.port), u.hostname);
    socket.write(`GET ${STREAM_PATH} HTTP/1.1\r\nhost: ${u.host}\r\nconnection: Upgrade\r\nupgrade: ${STREAM_PROTOCOL}\r\n\r\n`);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no answer to the upgrade within ${timeoutMs} ms`));
      }, timeoutMs);
      let head = Buffer.alloc(0);
      const onData = (d: Buffer) => {
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        clearTimeout(timer);
        socket.off('data', onData);
        const status = head.subarray(0, end).toString('latin1');
        if (!status.startsWith('HTTP/1.1 101')) {
          socket.destroy();
          return reject(new Error(`no upgrade: ${status.split('\r\n')[0]}`));
        }
        const s = new RawReplicaStream(socket);
        const read = (more: Buffer) => {
          try {
            s.answers.push(...s.reader.push(more));
          } catch {
            socket.destroy(); // the broker never breaks the framing; if it did, the test sees a closed stream
          }
        };
        socket.on('data', read);
        if (head.length > end + 4) read(head.subarray(end + 4));
        resolve(s);
      };
      socket.on('data', onData);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('close', () => {
        clearTimeout(timer);
        reject(new Error('closed before answering the upgrade'));
      });
    });
  }

  /** One framed message: `auth` as the meta (the x-yak-frame-auth value), `frame` as the body. */
  send(id: number, auth: string, frame: Buffer): void {
    for (const part of encodeMessage(id, auth, frame)) this.socket.write(part);
  }

  /** Any bytes, framed or not. */
  write(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  async answer(id: number, timeoutMs = 10_000): Promise<StreamMessage> {
    return waitFor(`the answer to frame ${id}`, async () => this.answers.find((a) => a.id === id) ?? null, timeoutMs, 10);
  }

  close(): void {
    this.socket.destroy();
  }
}
