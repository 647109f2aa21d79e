import http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { YakError, throttled } from '../errors/errors.js';
import { MessageReader, StreamProtocolError, encodeMessage, type StreamMessage } from '../replication/stream-framing.js';
import {
  FOLLOWER_MAX_IN_FLIGHT,
  MAX_IN_FLIGHT_HEADER,
  MAX_MESSAGE_HEADER,
  STREAM_IDLE_TIMEOUT_MS,
  STREAM_PATH,
  STREAM_PROTOCOL,
} from '../replication/stream-protocol.js';
import { MAX_META_BYTES } from '../replication/stream-framing.js';
import { FRAME_AUTH_HEADER } from '../replication/frame-auth.js';
import { FRAME_SENDER_HEADER } from '../replication/sender-proof.js';
import { UPGRADE_RETRY_MS } from '../replication/stream-transport.js';
import type { HttpContext } from './context.js';
import { JSON_CONTENT_TYPE, clip, mapError } from './errors.js';

/**
 * Streams open that have not yet carried one authenticated frame. Anyone who reaches the port can
 * open a stream and start a message of up to the replication body limit: without a bound, many
 * such streams would hold that much memory each, and a file descriptor, before any frame is
 * authenticated. Past this many, an upgrade is refused with 429 THROTTLED. The leader then posts
 * its frames (as to a broker without streams) and asks again later: refusing the newcomer, rather
 * than closing an older unproven stream, means a flood of upgrades can slow replication down to
 * POSTs but never keep closing the leader's new stream before its first frame proves it.
 */
export const MAX_UNPROVEN_STREAMS = 8;

/** The server's 'upgrade' listener, and a way to drop every open stream (at shutdown). */
export interface ReplicaStreams {
  onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
  closeAll(): void;
  /** Streams open now (for tests and /metrics). */
  count(): number;
}

/**
 * The follower's end of the replication stream (replication/stream-protocol.ts). Every frame is
 * handled exactly as POST /replica/append would handle it: `service.replicate(frame, auth)`, which
 * checks the frame's HMAC before it decodes, waits for or changes anything. Switching protocols
 * proves nothing by itself, so the stream is never trusted more than a single POST.
 *
 * Against a hostile peer: a message longer than the replication body limit closes the stream
 * before it is buffered; at most FOLLOWER_MAX_IN_FLIGHT frames (one, until a frame on the stream
 * was authenticated) are worked on at once and reading stops while answers wait to be written
 * (TCP pushes back on the sender); a stream silent for
 * STREAM_IDLE_TIMEOUT_MS is closed; at most MAX_UNPROVEN_STREAMS streams without an authenticated
 * frame are open at once (more are refused 429), so unauthenticated peers hold bounded memory. Web pages cannot open one:
 * browsers do not let pages set `Upgrade`, and a request carrying a browser's marks (Origin,
 * Sec-Fetch-Site) is refused anyway.
 */
export function createReplicaStreams(ctx: HttpContext): ReplicaStreams {
  const open = new Set<Duplex>();
  /** Open streams with no authenticated frame yet. */
  const unproven = new Set<Duplex>();
  const maxMessageBytes = ctx.replicaBodyLimit + MAX_META_BYTES;
  let throttled = 0;
  return {
    onUpgrade(req, socket, head) {
      const refusal = checkUpgrade(req);
      if (refusal) {
        refuse(socket, refusal, ctx);
        return;
      }
      if (unproven.size >= MAX_UNPROVEN_STREAMS) {
        if (throttled++ % 1000 === 0) {
          ctx.log(`replication stream refused: ${MAX_UNPROVEN_STREAMS} streams without an authenticated frame are open (${throttled} refused so far)`);
        }
        refuse(socket, YakError.of('THROTTLED', `${MAX_UNPROVEN_STREAMS} replication streams without an authenticated frame are open; post frames to /replica/append, or try again later`), ctx);
        return;
      }
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: ${STREAM_PROTOCOL}\r\n` +
          `${MAX_MESSAGE_HEADER}: ${maxMessageBytes}\r\n${MAX_IN_FLIGHT_HEADER}: ${FOLLOWER_MAX_IN_FLIGHT}\r\n\r\n`,
      );
      open.add(socket);
      unproven.add(socket);
      socket.once('close', () => {
        open.delete(socket);
        unproven.delete(socket);
      });
      serveStream(socket, head, ctx, maxMessageBytes, () => unproven.delete(socket));
    },
    closeAll() {
      for (const s of open) s.destroy();
      open.clear();
    },
    count: () => open.size,
  };
}

/**
 * Whether an upgrade proves that its sender holds the frame key: a well-formed upgrade whose
 * x-yak-frame-auth names an epoch with a key, and whose x-yak-frame-sender is a fresh proof for an
 * empty body (sender-proof.ts; the leader sends both, StreamConnection.open). Asked only of a
 * connection past --max-connections (connection-limit.ts), which is kept only if it does: below
 * the cap a stream is proven by its first frame, as before, and the headers are not looked at.
 */
export async function proveUpgrade(ctx: HttpContext, req: http.IncomingMessage): Promise<boolean> {
  if (checkUpgrade(req) || !ctx.service.admitFrame) return false;
  try {
    return await ctx.service.admitFrame(req.headers[FRAME_AUTH_HEADER], req.headers[FRAME_SENDER_HEADER], 0);
  } catch {
    return false; // an epoch without a key, a malformed claim: 401 on a POST, closed here
  }
}

function checkUpgrade(req: http.IncomingMessage): YakError | null {
  const path = (req.url ?? '').split('?')[0]!;
  const upgrade = String(req.headers.upgrade ?? '').trim().toLowerCase();
  if (path !== STREAM_PATH || upgrade !== STREAM_PROTOCOL) {
    // Node hands every request with Upgrade to this listener; a client asking for h2c or websocket
    // gets a clear refusal instead of the HTTP/1.1 answer it would get from a server without one.
    return YakError.of(
      'INVALID_REQUEST',
      `this broker speaks HTTP/1.1 and switches protocols only to ${STREAM_PROTOCOL} at GET ${STREAM_PATH} ` +
        `(asked: ${clip(upgrade || '(none)')} at ${clip(path)}); send the request without an Upgrade header (curl: without --http2)`,
    );
  }
  if (req.method !== 'GET') return YakError.of('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${STREAM_PATH}; use GET`, { allow: ['GET'] });
  if (req.headers.origin !== undefined || req.headers['sec-fetch-site'] !== undefined) {
    return YakError.of('FORBIDDEN', 'replication streams are not opened by web pages');
  }
  const length = req.headers['content-length'];
  if (req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')) {
    return YakError.of('INVALID_REQUEST', `GET ${STREAM_PATH} carries no body`);
  }
  return null;
}

/**
 * Past --max-connections, what a well-formed upgrade to the stream that carries no sender proof at
 * all (no x-yak-frame-sender) is answered before its connection is closed; null for any other
 * upgrade (closed unanswered, connection-limit.ts). Leaders of an older version open their stream
 * without the proof: closing it unanswered only made them retry the stream until a slot freed,
 * while any answer but 101 makes every leader since streams (stream-transport.ts) post its frames
 * for UPGRADE_RETRY_MS, and those POSTs carry a sender proof they can give (replica-admission.ts).
 * 429 THROTTLED, as for too many unproven streams: the same advice, post or try again later.
 */
export function unprovenUpgradeAnswer(req: http.IncomingMessage, ctx: HttpContext): string | null {
  if (checkUpgrade(req) || req.headers[FRAME_SENDER_HEADER] !== undefined) return null;
  const why = `past --max-connections a replication stream must prove the frame key (${FRAME_SENDER_HEADER}); post frames to /replica/append`;
  return answerText(throttled(why, UPGRADE_RETRY_MS), ctx);
}

/** A JSON error answer, then the connection is closed (nothing after the request is read). */
function refuse(socket: Duplex, err: YakError, ctx: HttpContext): void {
  socket.end(answerText(err, ctx));
}

/** A whole HTTP/1.1 answer for `err`, with `connection: close`. */
function answerText(err: YakError, ctx: HttpContext): string {
  const { status, body, headers = {} } = mapError(err, ctx.log);
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return (
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: ${JSON_CONTENT_TYPE}\r\n${extra}` +
    `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
  );
}

/** Protocol errors are logged once per 1,000, so a flood of garbage cannot flood the log too. */
let protocolErrors = 0;

/** `proven` is called when a frame on the stream was authenticated (service.replicate answered). */
function serveStream(socket: Duplex, head: Buffer, ctx: HttpContext, maxMessageBytes: number, proven: () => void): void {
  const reader = new MessageReader(maxMessageBytes);
  /** Read but not started yet: one read can hold many small messages; only FOLLOWER_MAX_IN_FLIGHT run at once. */
  const queued: StreamMessage[] = [];
  let inFlight = 0;
  /**
   * One frame at a time until one was authenticated: each frame in flight holds up to the body limit
   * while its key is looked up (a slow Redis makes that seconds), so an unauthenticated peer holds
   * one such frame per stream, not FOLLOWER_MAX_IN_FLIGHT. The leader's first frame proves its
   * stream within one round trip; its later frames then go FOLLOWER_MAX_IN_FLIGHT at a time.
   */
  let maxInFlight = 1;
  let waitingForDrain = false;
  const net = socket as Socket;
  net.setNoDelay?.(true);
  net.setTimeout?.(STREAM_IDLE_TIMEOUT_MS, () => socket.destroy());

  const pump = () => {
    while (queued.length > 0 && inFlight < maxInFlight && !socket.destroyed) handle(queued.shift()!);
    if (queued.length > 0 || inFlight >= maxInFlight || waitingForDrain) socket.pause();
    else if (!socket.destroyed) socket.resume();
  };
  const answer = (id: number, status: number, body: Buffer) => {
    inFlight--;
    if (socket.destroyed) return;
    const parts = encodeMessage(id, String(status), body);
    socket.cork();
    for (const p of parts) socket.write(p);
    socket.uncork();
    // The leader is not reading its answers: stop reading its frames until it does.
    if (socket.writableNeedDrain && !waitingForDrain) {
      waitingForDrain = true;
      socket.once('drain', () => {
        waitingForDrain = false;
        pump();
      });
    }
    pump();
  };
  const handle = (m: StreamMessage) => {
    inFlight++;
    // The same call, and so the same checks, as POST /replica/append; a synchronous throw becomes
    // an answer too, never an exception in this 'data' handler.
    new Promise<Buffer>((resolve) => resolve(ctx.service.replicate(m.body, m.meta.toString('latin1')))).then(
      (bytes) => {
        // replicate() answers only frames whose MAC matched (a refused one throws UNAUTHENTICATED).
        if (maxInFlight === 1) {
          maxInFlight = FOLLOWER_MAX_IN_FLIGHT;
          proven();
        }
        answer(m.id, 200, bytes);
      },
      (err: unknown) => {
        const { status, body } = mapError(err, ctx.log);
        answer(m.id, status, Buffer.from(body));
      },
    );
  };
  const onData = (chunk: Buffer) => {
    try {
      queued.push(...reader.push(chunk));
    } catch (err) {
      if (!(err instanceof StreamProtocolError)) throw err;
      if (protocolErrors++ % 1000 === 0) ctx.log(`replication stream from ${net.remoteAddress ?? '?'} closed (${protocolErrors} so far): ${err.message}`);
      socket.destroy();
      return;
    }
    pump();
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
  // node:http accepts half-open sockets, so a peer that closed its side would leave this one open
  // (a file descriptor, and a place among the unproven streams) until the idle timeout: no more
  // frames can come, and answers are not waited for, so close it at once.
  socket.on('end', () => socket.destroy());
  if (head.length > 0) onData(head);
}
