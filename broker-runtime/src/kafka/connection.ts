import type { Socket } from 'node:net';
import type { Principal } from '../auth/principal.js';
import type { Logger } from '../logger.js';
import { advertised, decodeApiVersions, encodeApiVersions } from './apis/api-versions.js';
import { decodeCreateTopics, handleCreateTopics } from './apis/create-topics.js';
import { decodeFetch, handleFetch } from './apis/fetch.js';
import { decodeDescribeGroups, handleDescribeGroups, handleListGroups } from './apis/groups/describe.js';
import { decodeFindCoordinator, handleFindCoordinator } from './apis/groups/find-coordinator.js';
import { decodeHeartbeat, decodeJoinGroup, decodeLeaveGroup, decodeSyncGroup, handleHeartbeat, handleJoinGroup, handleLeaveGroup, handleSyncGroup } from './apis/groups/membership.js';
import { decodeOffsetCommit, decodeOffsetFetch, handleOffsetCommit, handleOffsetFetch } from './apis/groups/offsets.js';
import { decodeInitProducerId, handleInitProducerId } from './apis/init-producer-id.js';
import { decodeListOffsets, handleListOffsets } from './apis/list-offsets.js';
import { decodeMetadata, handleMetadata } from './apis/metadata.js';
import { AcksZeroRefused, decodeProduce, handleProduce } from './apis/produce.js';
import { authenticatePlain, decodeSaslAuthenticate, decodeSaslHandshake, encodeSaslAuthenticate, encodeSaslHandshake } from './apis/sasl.js';
import type { KafkaAuth, KafkaBackend } from './backend.js';
import type { RequestContext } from './context.js';
import { API } from './protocol/api-keys.js';
import { KafkaDecodeError } from './protocol/decode-error.js';
import { Reader } from './protocol/reader.js';
import type { Writer } from './protocol/writer.js';

export interface ConnectionOptions {
  backend: KafkaBackend;
  auth: KafkaAuth | null;
  log: Logger;
  /** A frame announcing more is hostile or broken: the connection closes before reading it. */
  maxRequestBytes: number;
  /** Requests of one connection being worked on at once; past it the socket is paused. */
  maxInFlight: number;
  /**
   * Bytes of requests (and of their answers once known) a connection may hold until its answers go
   * out; past it no further request is read. Without it 64 pipelined requests of the largest size
   * would be held at once by one connection.
   */
  maxInFlightBytes: number;
  /** Fetches worked on at once (each may answer up to FETCH_MAX_BYTES); Kafka clients send one at a time. */
  maxInFlightFetches: number;
  /** With an auth file: a connection not authenticated this long after it opened is closed. */
  authDeadlineMs: number;
}

/** api_key int16, api_version int16, correlation_id int32, client_id length int16. */
const MIN_REQUEST_BYTES = 10;
/**
 * Largest frame before SASL succeeds: only ApiVersions, SaslHandshake and SaslAuthenticate are
 * allowed then, each a few hundred bytes. Without it a stranger could make the broker buffer a
 * whole --max-message-bytes request per connection before proving anything (Kafka's
 * sasl.server.max.receive.size, 512 KiB; PLAIN needs far less).
 */
export const MAX_UNAUTHENTICATED_FRAME_BYTES = 64 * 1024;

interface Slot {
  done: boolean;
  /** The request's bytes, plus its answer's once done: counted in inFlightBytes until flushed. */
  bytes: number;
  correlationId: number;
  /** Null: no answer (acks=0). */
  body: Writer | null;
  closeAfter: boolean;
}

/** Why a connection is closed on purpose: said in the debug log, never to the client (Kafka just closes). */
class CloseConnection extends Error {}

/**
 * One client connection: size-prefixed frames in, answers out in request order (Kafka clients
 * pipeline and match answers by order and correlation id). A frame that is too large, cut short,
 * for an API or version not advertised, or that does not decode closes this connection only —
 * requests are decoded whole before they act, so a bad one changes nothing.
 */
export class KafkaConnection {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly queue: Slot[] = [];
  private principal: Principal | null = null;
  private handshaken = false;
  /** SaslHandshake v0 succeeded: the next frame is the bare SASL token. */
  private bareToken = false;
  /**
   * A SASL token was received (SaslAuthenticate, or the bare v0 token): one password check per
   * connection, as in Kafka. `handshaken` is cleared when the token arrives, before its check
   * settles, so without this a client pipelining SaslHandshake + SaslAuthenticate pairs had each
   * pair accepted while the first check was pending: many password guesses on one connection.
   * A failure closes the connection, a success sets `principal`: either way there is no second.
   */
  private tokenReceived = false;
  /** The socket's write buffer is full: no new requests are read until it drains. */
  private draining = false;
  /** Answers are being gathered for one writev (corkUntilTick). */
  private corked = false;
  /** Muted for a quota until this time (Date.now() ms); 0 when not. */
  private mutedUntil = 0;
  private muteTimer: NodeJS.Timeout | null = null;
  private authTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private inFlightBytes = 0;
  private inFlightFetches = 0;
  private readonly remote: string;

  constructor(
    private readonly socket: Socket,
    private readonly options: ConnectionOptions,
  ) {
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => (this.closed = true));
    if (options.auth !== null) {
      // A stranger may not keep a connection (a file descriptor, buffers) open without ever authenticating.
      this.authTimer = setTimeout(() => {
        this.authTimer = null;
        if (this.principal === null) this.refuse(new CloseConnection(`not authenticated within ${options.authDeadlineMs} ms`));
      }, options.authDeadlineMs);
      this.authTimer.unref();
    }
  }

  private get authenticated(): boolean {
    return this.options.auth === null || this.principal !== null;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.pump();
  }

  /** Over a limit of what one connection may hold: read no further request until answers go out. */
  private overLimits(): boolean {
    return this.queue.length >= this.options.maxInFlight || this.inFlightBytes >= this.options.maxInFlightBytes || this.inFlightFetches >= this.options.maxInFlightFetches;
  }

  /** Works on the whole frames buffered, while the connection is under its limits (a chunk may hold many small frames). */
  private pump(): void {
    try {
      for (;;) {
        if (this.closed) return;
        if (this.overLimits()) {
          this.socket.pause();
          return;
        }
        if (this.buffered < 4) return;
        const head = this.peek(4);
        const size = head.readInt32BE(0);
        const max = this.authenticated ? this.options.maxRequestBytes : MAX_UNAUTHENTICATED_FRAME_BYTES;
        if (size < MIN_REQUEST_BYTES || size > max) {
          throw new CloseConnection(`a frame of ${size} bytes (allowed ${MIN_REQUEST_BYTES}..${max}${this.authenticated ? '' : ' before SASL authentication'})`);
        }
        if (this.buffered < 4 + size) return;
        const frame = this.take(4 + size).subarray(4);
        if (this.bareToken) this.onBareToken(frame);
        else this.onFrame(frame);
        if (this.closed) return;
      }
    } catch (err) {
      this.refuse(err);
    }
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    const first = this.chunks[0]!;
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }

  private onFrame(frame: Buffer): void {
    const frameBytes = frame.length;
    const r = new Reader(frame);
    const apiKey = r.int16();
    const apiVersion = r.int16();
    const correlationId = r.int32();
    const clientId = r.nullableString();
    const sasl = this.options.auth !== null;
    if (apiKey === API.ApiVersions) {
      // A version past ours is answered (v0 body, UNSUPPORTED_VERSION) so the client can step down.
      if (apiVersion === 3) r.skipTaggedFields();
      if (apiVersion <= 3) decodeApiVersions(r, apiVersion);
      this.push(correlationId, Promise.resolve(encodeApiVersions(apiVersion, sasl)));
      return;
    }
    const range = advertised(sasl).find((a) => a.key === apiKey);
    if (!range) throw new CloseConnection(`api key ${apiKey} is not served here`);
    if (apiVersion < range.min || apiVersion > range.max) throw new CloseConnection(`api key ${apiKey} version ${apiVersion} (served: ${range.min}-${range.max})`);
    if (apiKey === API.SaslHandshake) {
      if (this.handshaken || this.bareToken || this.tokenReceived || this.principal) throw new CloseConnection('a second SaslHandshake');
      const { ok, body } = encodeSaslHandshake(this.decodeWhole(r, decodeSaslHandshake));
      this.handshaken = ok && apiVersion >= 1;
      this.bareToken = ok && apiVersion === 0;
      this.push(correlationId, Promise.resolve(body), !ok);
      return;
    }
    if (apiKey === API.SaslAuthenticate) {
      if (!this.handshaken || this.tokenReceived || this.principal) throw new CloseConnection('SaslAuthenticate out of turn');
      const token = this.decodeWhole(r, decodeSaslAuthenticate);
      this.handshaken = false;
      this.tokenReceived = true;
      const slot = this.push(correlationId, authenticatePlain(token, this.options.auth!).then(({ principal, message }) => {
        this.principal = principal;
        if (!principal) slot.closeAfter = true;
        return encodeSaslAuthenticate(apiVersion, message);
      }));
      return;
    }
    if (!this.authenticated) throw new CloseConnection(`api key ${apiKey} before SASL authentication`);
    if (this.principal) {
      // The auth file may have been reloaded (SIGHUP) since this connection authenticated: every
      // request is judged by the principal's current rights, as REST requests are.
      const now = this.options.auth!.current(this.principal);
      if (!now) throw new CloseConnection(`principal '${this.principal.name}' was removed from the auth file or its secret changed since this connection authenticated`);
      this.principal = now;
    }
    let inflated = 0;
    const ctx: RequestContext = { backend: this.options.backend, auth: this.options.auth, principal: this.principal, apiVersion, clientId, log: this.options.log, throttle: (ms) => this.mute(ms), decompressed: (n) => (inflated += n) };
    switch (apiKey) {
      case API.Produce: {
        const req = this.decodeWhole(r, decodeProduce);
        const answer = handleProduce(req, ctx);
        this.push(correlationId, answer, false, frameBytes + inflated);
        return;
      }
      case API.Fetch: {
        const req = this.decodeWhole(r, (r) => decodeFetch(r, apiVersion));
        this.inFlightFetches++;
        const answer = handleFetch(req, ctx).finally(() => this.inFlightFetches--);
        this.push(correlationId, answer, false, frameBytes);
        return;
      }
      case API.ListOffsets: {
        const req = this.decodeWhole(r, (r) => decodeListOffsets(r, apiVersion));
        this.push(correlationId, handleListOffsets(req, ctx), false, frameBytes);
        return;
      }
      case API.Metadata: {
        const req = this.decodeWhole(r, (r) => decodeMetadata(r, apiVersion));
        this.push(correlationId, handleMetadata(req, ctx), false, frameBytes);
        return;
      }
      case API.CreateTopics: {
        const req = this.decodeWhole(r, (r) => decodeCreateTopics(r, apiVersion));
        this.push(correlationId, handleCreateTopics(req, ctx), false, frameBytes);
        return;
      }
      case API.FindCoordinator:
        this.push(correlationId, handleFindCoordinator(this.decodeWhole(r, (r) => decodeFindCoordinator(r, apiVersion)), ctx), false, frameBytes);
        return;
      case API.JoinGroup:
        this.push(correlationId, handleJoinGroup(this.decodeWhole(r, (r) => decodeJoinGroup(r, apiVersion)), ctx), false, frameBytes);
        return;
      case API.SyncGroup:
        this.push(correlationId, handleSyncGroup(this.decodeWhole(r, (r) => decodeSyncGroup(r, apiVersion)), ctx), false, frameBytes);
        return;
      case API.Heartbeat:
        this.push(correlationId, handleHeartbeat(this.decodeWhole(r, (r) => decodeHeartbeat(r, apiVersion)), ctx), false, frameBytes);
        return;
      case API.LeaveGroup:
        this.push(correlationId, handleLeaveGroup(this.decodeWhole(r, (r) => decodeLeaveGroup(r, apiVersion)), ctx), false, frameBytes);
        return;
      case API.OffsetCommit:
        this.push(correlationId, handleOffsetCommit(this.decodeWhole(r, (r) => decodeOffsetCommit(r, apiVersion)), ctx), false, frameBytes);
        return;
      case API.OffsetFetch:
        this.push(correlationId, handleOffsetFetch(this.decodeWhole(r, (r) => decodeOffsetFetch(r, apiVersion)), ctx), false, frameBytes);
        return;
      case API.DescribeGroups:
        this.push(correlationId, handleDescribeGroups(this.decodeWhole(r, (r) => decodeDescribeGroups(r, apiVersion)), ctx), false, frameBytes);
        return;
      case API.InitProducerId:
        this.push(correlationId, handleInitProducerId(this.decodeWhole(r, decodeInitProducerId), ctx), false, frameBytes);
        return;
      case API.ListGroups:
        this.decodeWhole(r, () => undefined);
        this.push(correlationId, handleListGroups(ctx));
        return;
      default:
        throw new CloseConnection(`api key ${apiKey} has no handler`);
    }
  }

  /**
   * After SaslHandshake v0 the PLAIN token comes as a bare frame, answered by an empty frame on
   * success; a failure closes the connection (there is no error field to carry it).
   */
  private onBareToken(token: Buffer): void {
    this.bareToken = false;
    this.tokenReceived = true;
    if (this.queue.length > 0) throw new CloseConnection('a SASL token while requests are pending');
    void authenticatePlain(token, this.options.auth!).then(({ principal }) => {
      if (this.closed) return;
      if (!principal) return this.refuse(new CloseConnection('SASL/PLAIN authentication failed'));
      this.principal = principal;
      this.socket.write(Buffer.alloc(4));
    });
  }

  /** The whole body must decode and nothing may follow it. */
  private decodeWhole<T>(r: Reader, decode: (r: Reader) => T): T {
    const value = decode(r);
    if (r.remaining() !== 0) throw new KafkaDecodeError(`${r.remaining()} byte(s) after the request body`);
    return value;
  }

  private push(correlationId: number, answer: Promise<Writer | null>, closeAfter = false, requestBytes = 0): Slot {
    const slot: Slot = { done: false, bytes: requestBytes, correlationId, body: null, closeAfter };
    this.queue.push(slot);
    this.inFlightBytes += requestBytes;
    if (this.overLimits()) this.socket.pause();
    answer.then(
      (body) => {
        slot.body = body;
        slot.done = true;
        const answerBytes = body?.length ?? 0;
        slot.bytes += answerBytes;
        this.inFlightBytes += answerBytes;
        this.flush();
      },
      (err: unknown) => this.refuse(err),
    );
    return slot;
  }

  /** Over a quota: read no new requests until `ms` from now (answers still go out). */
  private mute(ms: number): void {
    const until = Date.now() + ms;
    if (until <= this.mutedUntil) return;
    this.mutedUntil = until;
    this.socket.pause();
    if (this.muteTimer) clearTimeout(this.muteTimer);
    this.muteTimer = setTimeout(() => {
      this.muteTimer = null;
      this.mutedUntil = 0;
      this.flush();
    }, ms);
    this.muteTimer.unref();
  }

  /** Answers leave strictly in request order, each once all before it are out. */
  private flush(): void {
    while (!this.closed && this.queue.length > 0 && this.queue[0]!.done) {
      const slot = this.queue.shift()!;
      this.inFlightBytes -= slot.bytes;
      if (slot.body !== null) {
        const body = slot.body.view();
        const head = Buffer.allocUnsafe(8);
        head.writeInt32BE(body.length + 4, 0);
        head.writeInt32BE(slot.correlationId, 4);
        // Head and body in one writev, not copied into one buffer (a Fetch answer is up to 16 MiB),
        // together with every other answer settled in the same turn of the event loop.
        this.corkUntilTick();
        this.socket.write(head);
        const room = this.socket.write(body);
        // A client that does not read its answers stops us reading its requests (no unbounded buffering).
        if (!room && !this.draining) {
          this.draining = true;
          this.socket.once('drain', () => {
            this.draining = false;
            this.flush();
          });
        }
      }
      if (slot.closeAfter) {
        this.uncork();
        this.socket.end();
        this.closed = true;
        return;
      }
    }
    if (this.draining || this.muteTimer) {
      this.socket.pause();
      return;
    }
    // Frames already buffered while over a limit come first, then the socket is read again.
    this.pump();
    if (!this.closed && !this.overLimits() && this.socket.isPaused()) this.socket.resume();
  }

  /**
   * Holds this turn's answers in the socket until the promise callbacks settling them have all run
   * (a nextTick scheduled from a microtask runs once the microtask queue is empty, as node:http
   * corks its answers), then sends them in one writev. A commit settles every produce waiting on it
   * at once: 32 pipelined one-record produces went out as 32 segments, each waking the client for
   * one 53-byte answer (KafkaJS: a 'data' event, a Buffer.concat and a decode pass apiece).
   */
  private corkUntilTick(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(() => this.uncork());
  }

  private uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
  }

  private refuse(err: unknown): void {
    if (err instanceof CloseConnection || err instanceof KafkaDecodeError) {
      this.options.log('debug', `kafka: closing connection from ${this.remote}: ${err.message}`, 'kafka.closed', { remote: this.remote, reason: err.message });
    } else if (!(err instanceof AcksZeroRefused)) {
      this.options.log('error', `kafka: closing connection from ${this.remote} after an unexpected error: ${(err as Error).stack ?? String(err)}`);
    }
    this.close();
  }

  close(): void {
    if (this.muteTimer) clearTimeout(this.muteTimer);
    if (this.authTimer) clearTimeout(this.authTimer);
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
  }
}
