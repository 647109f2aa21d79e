import type { OutboundTls } from '../config/tls.js';
import { FRAME_AUTH_HEADER } from './frame-auth.js';
import { FRAME_SENDER_HEADER } from './sender-proof.js';
import { StreamConnection } from './stream-connection.js';
import { FrameTransport, type FrameHeaders, type FramePoster, type SenderProof } from './transport.js';

/** The one path whose frames travel on the stream; any other post goes by HTTP as before. */
const APPEND_PATH = '/replica/append';

/**
 * Frames a follower session sends ahead on a stream. It was 1 while sending ahead made the leader's
 * HTTPS server reset client connections (HPE_PAUSED; the client saw read ECONNRESET): a produce's
 * answer was then often written outside the poll phase, node learnt that its TLS write had completed
 * only after it had read the client's next request, paused that connection, and over TLS the pause
 * did not stop the request's later records reaching the parser. http/tls-pause.ts makes that pause
 * work; test/integration/security/tls-batch.test.ts (16 of 20 sequential connections reset before it).
 */
export const SEND_AHEAD_LIMIT = 8;
/** After a follower refused the upgrade (an older version), POST for this long before asking again. */
export const UPGRADE_RETRY_MS = 30_000;

interface Peer {
  connection: StreamConnection | null;
  /** The upgrade under way, shared by every frame that waits for it. */
  opening: Promise<StreamConnection | null> | null;
  /** Monotonic time until which this follower gets POSTs (it refused the upgrade). */
  postUntil: number;
}

export interface StreamTransportOptions {
  tls?: OutboundTls;
  /** false (--replication-stream off): every frame by POST, as before streams. Default true. */
  streams?: boolean;
  log?: (level: 'debug' | 'info' | 'warn', line: string) => void;
  /** Called once per frame sent, with how it went. */
  onFrame?: (via: 'stream' | 'post') => void;
  /** Monotonic ms; performance.now() by default. */
  now?: () => number;
}

/**
 * FramePoster over one persistent replication stream per follower (stream-connection.ts): an HTTP
 * connection to the follower's own port switched to length-prefixed frames, so a frame costs one
 * socket write instead of an HTTP request and answer. The stream is opened on the first frame and
 * again after any failure; the frame that finds it broken fails as an HTTP post would have
 * (FollowerSession retries with its back-off). A follower that does not speak the stream (an
 * older broker in a rolling upgrade) gets every frame by POST /replica/append, and is asked again
 * every UPGRADE_RETRY_MS. Each frame is signed exactly as before and checked by the follower
 * exactly as a POST is.
 */
export class StreamTransport implements FramePoster {
  private readonly peers = new Map<string, Peer>();
  private readonly http: FrameTransport;
  private readonly tls: OutboundTls;
  private readonly now: () => number;
  private readonly log: NonNullable<StreamTransportOptions['log']>;
  private readonly onFrame: NonNullable<StreamTransportOptions['onFrame']>;
  private closed: boolean;

  constructor(options: StreamTransportOptions = {}) {
    this.tls = options.tls ?? {};
    this.http = new FrameTransport(this.tls);
    this.now = options.now ?? (() => performance.now());
    this.log = options.log ?? (() => {});
    this.onFrame = options.onFrame ?? (() => {});
    this.closed = options.streams === false;
  }

  async post(baseUrl: string, path: string, body: Buffer, timeoutMs: number, extraHeaders: FrameHeaders = {}): Promise<Buffer> {
    const auth = extraHeaders[FRAME_AUTH_HEADER];
    // The sender proof matters only to a POST (it lets the body skip the follower's unauthenticated
    // queue): on the stream it is left behind, and a lazy one is never computed.
    const onlyAuth = Object.keys(extraHeaders).every((h) => h === FRAME_AUTH_HEADER || h === FRAME_SENDER_HEADER);
    if (path !== APPEND_PATH || typeof auth !== 'string' || !onlyAuth || this.closed) return this.viaPost(baseUrl, path, body, timeoutMs, extraHeaders);
    const conn = await this.connection(baseUrl, timeoutMs, () => upgradeProof(auth, extraHeaders[FRAME_SENDER_HEADER]));
    // The follower's limit: a longer frame by POST, which refuses it with 413 exactly as before.
    if (!conn || body.length + auth.length > conn.maxMessageBytes) return this.viaPost(baseUrl, path, body, timeoutMs, extraHeaders);
    this.onFrame('stream');
    // The whole timeout for the frame itself, even when opening the stream took part of it: opening
    // costs a round trip through the follower's event loop that a POST's TCP connect does not, and a
    // loaded follower that needs most of the timeout for each would otherwise fail every frame on
    // every new stream, and get a new stream each time (the likely cause of one SIGKILL-loop run at
    // load 29 in which a leader reached no follower for 24 s; not seen since).
    return conn.send(auth, body, timeoutMs);
  }

  /**
   * Frames a session may have in flight to `baseUrl`: the open stream's limit (the smaller of the
   * leader's and the follower's), capped by SEND_AHEAD_LIMIT; 1 without an open stream.
   */
  inFlightLimit(baseUrl: string): number {
    const conn = this.closed ? null : this.peers.get(baseUrl)?.connection;
    return conn && !conn.closed ? Math.min(conn.maxInFlight, SEND_AHEAD_LIMIT) : 1;
  }

  /** Whether frames to `baseUrl` go on an open stream now (the next one opens it if need be, and may still go by POST). */
  streaming(baseUrl: string): boolean {
    const conn = this.closed ? null : this.peers.get(baseUrl)?.connection;
    return !!conn && !conn.closed;
  }

  private viaPost(baseUrl: string, path: string, body: Buffer, timeoutMs: number, extraHeaders: FrameHeaders): Promise<Buffer> {
    this.onFrame('post');
    return this.http.post(baseUrl, path, body, timeoutMs, extraHeaders);
  }

  /** The open stream to `baseUrl`, a new one, or null when the follower gets POSTs. */
  private async connection(baseUrl: string, timeoutMs: number, proof: () => Record<string, string>): Promise<StreamConnection | null> {
    let peer = this.peers.get(baseUrl);
    if (!peer) {
      peer = { connection: null, opening: null, postUntil: 0 };
      this.peers.set(baseUrl, peer);
    }
    if (peer.connection && !peer.connection.closed) return peer.connection;
    peer.connection = null;
    if (this.now() < peer.postUntil) return null;
    if (!peer.opening) {
      const p = peer;
      p.opening = StreamConnection.open(baseUrl, this.tls, timeoutMs, proof())
        .then((opened) => {
          if ('refused' in opened) {
            p.postUntil = this.now() + UPGRADE_RETRY_MS;
            this.log('info', `follower at ${baseUrl} does not open replication streams (HTTP ${opened.status}): posting frames to ${APPEND_PATH}; asking again in ${UPGRADE_RETRY_MS / 1000} s`);
            return null;
          }
          if (this.closed) {
            opened.close();
            return null;
          }
          p.connection = opened;
          return opened;
        })
        .finally(() => {
          p.opening = null;
        });
    }
    return peer.opening;
  }

  /** Streams open now (for tests). */
  openStreams(): number {
    let n = 0;
    for (const p of this.peers.values()) if (p.connection && !p.connection.closed) n++;
    return n;
  }

  /** Closes every stream and pooled connection (at stop). */
  close(): void {
    this.closed = true;
    for (const p of this.peers.values()) p.connection?.close();
    this.peers.clear();
    this.http.close();
  }
}

/**
 * What an upgrade carries to prove the frame key: the frame's x-yak-frame-auth (its epoch names the
 * key) and a sender proof for an empty body (sender-proof.ts: good once, so a copy proves nothing
 * again). A follower whose --max-connections slots are all taken keeps a connection past the cap
 * only if its first request proves this (http/connection-limit.ts); below the cap it is not looked at.
 */
function upgradeProof(auth: string, sender: FrameHeaders[string] | undefined): Record<string, string> {
  if (typeof sender !== 'function') return { [FRAME_AUTH_HEADER]: auth };
  return { [FRAME_AUTH_HEADER]: auth, [FRAME_SENDER_HEADER]: (sender as SenderProof)(0) };
}
