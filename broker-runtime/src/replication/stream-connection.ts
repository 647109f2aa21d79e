import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { OutboundTls } from '../config/tls.js';
import { MAX_MESSAGE_ID, MessageReader, StreamProtocolError, encodeMessage, type StreamMessage } from './stream-framing.js';
import { MAX_IN_FLIGHT_HEADER, MAX_MESSAGE_HEADER, STREAM_PATH, STREAM_PROTOCOL } from './stream-protocol.js';
import { TransportError } from './transport.js';

/** Leader side: frames in flight on one stream, whatever the follower allows. */
export const LEADER_MAX_IN_FLIGHT = 8;
/** Answers are small (a state per partition in the frame); a longer one is a broken or hostile peer. */
export const MAX_ANSWER_BYTES = 64 << 20;

/** The follower answered the upgrade with something else than 101: it does not speak the stream. */
export interface UpgradeRefused {
  refused: true;
  status: number;
}

interface Pending {
  resolve(answer: Buffer): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** An error carrying a socket error code, so unreachableReason() reads it as it reads http.request's. */
function connectionLost(message: string, code = 'ECONNRESET'): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * The leader's end of one replication stream (stream-protocol.ts): frames go out with an id, the
 * follower's answers are matched to them by id (in any order), up to the smaller of
 * LEADER_MAX_IN_FLIGHT and the follower's limit in flight, later frames waiting their turn.
 *
 * Failure semantics are those of one http.request per frame (transport.ts): an answer other than
 * 200 rejects with TransportError(`HTTP <status>: …`, status); no answer within the frame's
 * timeout rejects with TransportError(`no answer within … ms`) and closes the stream (a follower
 * that hangs must not keep the socket); a lost connection rejects every frame in flight with an
 * ECONNRESET error. A closed stream stays closed: the transport opens a new one.
 */
export class StreamConnection {
  private readonly pending = new Map<number, Pending>();
  private readonly waiting: (() => void)[] = [];
  private nextId = 1;
  private closedWith: Error | null = null;
  private readonly reader = new MessageReader(MAX_ANSWER_BYTES);
  /** Frames this stream carries at once (the smaller of LEADER_MAX_IN_FLIGHT and the follower's limit). */
  readonly maxInFlight: number;
  /** The follower's largest accepted message: a longer frame must go by POST, which answers 413 as before. */
  readonly maxMessageBytes: number;

  private constructor(
    private readonly socket: Socket,
    head: Buffer,
    headers: http.IncomingHttpHeaders,
    readonly url: string,
  ) {
    const allowed = Number(headers[MAX_IN_FLIGHT_HEADER]);
    this.maxInFlight = Number.isInteger(allowed) && allowed > 0 ? Math.min(allowed, LEADER_MAX_IN_FLIGHT) : 1;
    const maxBytes = Number(headers[MAX_MESSAGE_HEADER]);
    this.maxMessageBytes = Number.isSafeInteger(maxBytes) && maxBytes > 0 ? maxBytes : 0;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(connectionLost(`the replication stream to ${url} failed: ${err.message}`, (err as NodeJS.ErrnoException).code ?? 'ECONNRESET')));
    socket.on('close', () => this.fail(connectionLost(`the replication stream to ${url} was closed`)));
    if (head.length > 0) this.onData(head);
  }

  /**
   * Asks the broker at `baseUrl` to switch a fresh connection to the stream. Resolves with the
   * stream, or with `refused` when it answers anything but 101 (an older broker: 404); rejects
   * (`proof`: the frame key's proof, which a follower past --max-connections asks of the upgrade)
   * as http.request does when it cannot be reached (ECONNREFUSED …) or does not answer in time.
   */
  static open(baseUrl: string, tls: OutboundTls, timeoutMs: number, proof: Record<string, string> = {}): Promise<StreamConnection | UpgradeRefused> {
    const url = new URL(STREAM_PATH, baseUrl);
    const secure = url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const options: https.RequestOptions = {
        method: 'GET',
        agent: false,
        headers: { ...proof, connection: 'Upgrade', upgrade: STREAM_PROTOCOL },
        timeout: timeoutMs,
        ...(secure ? tls : {}),
      };
      const req = (secure ? https.request : http.request)(url, options);
      req.on('upgrade', (res, socket, head) => {
        req.setTimeout(0);
        if (String(res.headers.upgrade ?? '').toLowerCase() !== STREAM_PROTOCOL) {
          socket.destroy();
          resolve({ refused: true, status: 101 });
          return;
        }
        socket.setTimeout(0);
        resolve(new StreamConnection(socket, head, res.headers, baseUrl));
      });
      req.on('response', (res) => {
        req.setTimeout(0);
        res.resume();
        resolve({ refused: true, status: res.statusCode ?? 0 });
      });
      req.on('timeout', () => req.destroy(new TransportError(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  /** Frames sent and not answered yet (for tests). */
  inFlight(): number {
    return this.pending.size;
  }

  /** Sends one frame (signed: `auth` is its x-yak-frame-auth value) and answers the follower's answer. */
  async send(auth: string, frame: Buffer, timeoutMs: number): Promise<Buffer> {
    while (this.pending.size >= this.maxInFlight && !this.closedWith) await new Promise<void>((r) => this.waiting.push(r));
    if (this.closedWith) throw this.closedWith;
    const id = this.nextId;
    this.nextId = id === MAX_MESSAGE_ID ? 1 : id + 1;
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = new TransportError(`no answer within ${timeoutMs} ms`);
        this.settle(id)?.reject(err);
        // As req.destroy() did for one request: a follower that does not answer loses the stream.
        this.close(connectionLost(`the replication stream to ${this.url} was closed: a frame got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.cork();
      for (const part of encodeMessage(id, auth, frame)) this.socket.write(part);
      this.socket.uncork();
    });
  }

  close(why: Error = connectionLost(`the replication stream to ${this.url} was closed`)): void {
    this.fail(why);
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    let messages: StreamMessage[];
    try {
      messages = this.reader.push(chunk);
    } catch (err) {
      if (!(err instanceof StreamProtocolError)) throw err;
      this.close(connectionLost(`the replication stream to ${this.url} broke its framing: ${err.message}`));
      return;
    }
    for (const m of messages) {
      const p = this.settle(m.id);
      if (!p) {
        // Timed-out frames are forgotten, but their stream is closed at once: an unknown id is a broken peer.
        this.close(connectionLost(`the replication stream to ${this.url} answered frame ${m.id}, which was not asked`));
        return;
      }
      const meta = m.meta.toString('latin1');
      if (!/^[1-5][0-9]{2}$/.test(meta)) {
        p.reject(connectionLost(`the replication stream to ${this.url} answered with status '${meta.slice(0, 20)}'`));
        this.close(connectionLost(`the replication stream to ${this.url} broke its framing: a status is three digits`));
        return;
      }
      const status = Number(meta);
      if (status === 200) p.resolve(m.body);
      else p.reject(new TransportError(`HTTP ${status}: ${m.body.toString('utf8').slice(0, 200)}`, status));
    }
  }

  /** Forgets frame `id` and frees its slot; answers what was waiting on it, or undefined. */
  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    clearTimeout(p.timer);
    this.pending.delete(id);
    this.waiting.shift()?.();
    return p;
  }

  private fail(err: Error): void {
    if (this.closedWith) return;
    this.closedWith = err;
    for (const [id, p] of [...this.pending]) {
      this.settle(id);
      p.reject(err);
    }
    for (const w of this.waiting.splice(0)) w();
  }
}
