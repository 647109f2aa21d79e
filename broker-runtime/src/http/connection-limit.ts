import type { Server, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { refusalCounter, type RefusedConnections } from '../net/accept-limit.js';
import { ConnectionProbation, type RefusalCause } from '../net/connection-probation.js';

/**
 * REST connections a broker keeps open at once, unless --max-connections says otherwise. Each holds
 * a file descriptor (shared with --max-open-files' segment files, Kafka's sockets and replication
 * streams) and up to a request body of memory; without a cap, a client that opens sockets in a loop
 * runs the process out of descriptors, and then segment files and Redis fail too. Clients keep a few
 * pooled connections each, so 1,024 is hundreds of clients (the fuzz test's 1,000 concurrent
 * connections are spread over three brokers). Replication streams and upgraded sockets count too.
 */
export const DEFAULT_MAX_HTTP_CONNECTIONS = 1024;

/**
 * Past the cap, connections kept on probation at once: each may still prove it is the leader's
 * replication connection (net/connection-probation.ts). Enough that a flood must replace all of
 * them within PROBATION_GRACE_MS, again and again, to make one of the leader's tries refused.
 */
export const PROBATION_SLOTS = 16;
/**
 * How long a connection past the cap may take to send a first request that proves the frame key:
 * the leader sends its request as soon as it is connected (after a TLS handshake), so a round
 * trip or two; generous for a loaded machine, short enough that a flood of silent connections
 * past the cap holds each probation slot only this long.
 */
export const PROBATION_DEADLINE_MS = 2000;
/** A probationer this young is not evicted by a newcomer (the newcomer is refused instead). */
export const PROBATION_GRACE_MS = 200;
/**
 * Replication connections proven past the cap, kept as long as they are open: the leader opens one
 * stream and up to 4 pooled POST connections to a follower, and those of a deposed leader close.
 */
export const MAX_PROMOTED_CONNECTIONS = 16;

export type RefusedConnectionLog = (line: string, fields: RefusedConnections) => void;

/** What the request handlers ask about the connection a request came on (the socket node:http gives them). */
export interface ConnectionStanding {
  /** Past the cap, waiting for its first request to prove the frame key. */
  onProbation(socket: Duplex): boolean;
  /** Its first request proved the frame key: it keeps its place. */
  promote(socket: Duplex): void;
  /** Its first request did not: closed unanswered, counted as refused. */
  refuse(socket: Duplex): void;
  /**
   * Its first request did not, but gets `answer` (a whole HTTP response) before it is closed: counted
   * as refused, and it keeps its probation place until it has closed (the probation deadline at the
   * latest). Only for an upgrade to the stream that carries no proof at all (server.ts says why).
   */
  refuseWithAnswer(socket: Duplex, answer: string): void;
}

export interface HttpConnectionLimit extends ConnectionStanding {
  /** Starts counting `server`'s connections; call once, before it listens. */
  attach(server: Server): void;
  /** Connections refused so far. */
  refusedTotal(): number;
  /** Connections held now, by standing (tests). */
  counts(): { regular: number; probation: number; promoted: number };
}

const CAUSES: Record<RefusalCause | 'backstop', string> = {
  'probation full': `it arrived while ${PROBATION_SLOTS} others past the cap had had less than ${PROBATION_GRACE_MS} ms to prove themselves`,
  evicted: 'a newer connection took its place on probation',
  deadline: `it sent no replication request that proves the frame key within ${PROBATION_DEADLINE_MS} ms`,
  'not proven': 'its first request was not a replication request that proves the frame key',
  answered: 'its first request was a replication stream upgrade without the proof of the frame key (a leader of an older version), answered that it should post its frames instead',
  backstop: 'at accept',
};

/**
 * The REST listener's cap, which replication shares. A plain cap (what the Kafka listener has)
 * closes every connection past it at accept, so whoever holds every slot of a follower's port
 * (reopening each as node's headers timeout closes it) also kept the leader from opening a new
 * stream to a restarted follower, or POSTing to it: it stayed out of the in-sync set for as long as
 * the flood lasted. Instead, a connection past the cap is kept on probation
 * (net/connection-probation.ts): if its first request is a replication request that proves the
 * frame key (GET /replica/stream or POST /replica/append with x-yak-frame-sender, checked by the
 * upgrade and replica-admission.ts) it keeps its place like an established stream; anything else
 * is closed unanswered and counted as refused, as the plain cap did, so other clients never get
 * more than `max` connections served. One exception, refused all the same: a stream upgrade that
 * carries no proof at all (a leader of an older version, during a rolling upgrade) is answered
 * 429 before it is closed, since only an answer other than 101 makes such a leader post its frames
 * (with a proof it can give) rather than retry its stream until a slot frees. No second port, no
 * flag: whoever can reach the port can already reach both.
 *
 * Considered and not done: reserving a few slots for replication (a flood would hold those too,
 * since a slot must be given before the request that proves anything is read), and a separate
 * replication port (one more port to open, configure and firewall on every deployment).
 *
 * Descriptors held: at most max + PROBATION_SLOTS + MAX_PROMOTED_CONNECTIONS; node's own
 * maxConnections is set one above that (the newcomer that evicts a probationer) as a backstop.
 * Every refusal is logged as before (`http.connection_refused`, at most one line per 10 s) and
 * counted by `onRefused` (`yak_http_refused_total{reason="connection_limit"}`).
 */
export function createHttpConnectionLimit(max: number, log: RefusedConnectionLog, onRefused: () => void = () => {}): HttpConnectionLimit {
  if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`maxConnections must be a positive integer; got ${max}`);
  let lastCause: RefusalCause | 'backstop' = 'backstop';
  const counter = refusalCounter(max, (r) =>
    log(`http: closed a connection from ${r.remote} past --max-connections (${max} open): ${CAUSES[lastCause]}; ${r.refused_total} refused in all`, r),
  );
  const refused = (peer: Socket | undefined, cause: RefusalCause | 'backstop') => {
    lastCause = cause;
    counter.refused(peer);
    onRefused();
  };
  /** The connection being accepted now: the listeners after ours still get it (see attach). */
  let arriving: Socket | null = null;
  const probation = new ConnectionProbation<Socket>({
    max,
    slots: PROBATION_SLOTS,
    deadlineMs: PROBATION_DEADLINE_MS,
    graceMs: PROBATION_GRACE_MS,
    maxPromoted: MAX_PROMOTED_CONNECTIONS,
    close: (s) => (s === arriving ? process.nextTick(() => s.destroy()) : s.destroy()),
    refused: (s, cause) => refused(s, cause),
  });
  return {
    attach(server) {
      server.maxConnections = max + PROBATION_SLOTS + MAX_PROMOTED_CONNECTIONS + 1;
      server.on('drop', (dropped?: Socket) => refused(dropped, 'backstop'));
      // Before node:http's (or node:tls's) own listener: the raw TCP socket, before any handshake.
      // A newcomer refused here is closed right after the listeners (node runs the tick queue
      // before its next accept), as if its client had hung up at once: they never see a
      // destroyed socket, which node:tls would not expect.
      server.prependListener('connection', (socket: Socket) => {
        socket.once('close', () => probation.left(socket));
        arriving = socket;
        try {
          probation.arrive(socket);
        } finally {
          arriving = null;
        }
      });
    },
    onProbation: (socket) => probation.onProbation(tcp(socket)),
    promote: (socket) => probation.promote(tcp(socket)),
    refuse: (socket) => probation.refuse(tcp(socket)),
    refuseWithAnswer(socket, answer) {
      if (!probation.answer(tcp(socket))) return;
      // Closed once the answer is written, as node:http closes a connection it answered with
      // `connection: close` (destroySoon); a peer that reads nothing is closed at the deadline.
      socket.end(answer, () => socket.destroy());
    },
    refusedTotal: counter.count,
    counts: () => probation.counts(),
  };
}

/** The TCP socket under the socket node:http hands out: a TLS socket's `_parent` (node:tls wraps the accepted one). */
function tcp(socket: Duplex): Socket {
  return ((socket as { _parent?: Socket | null })._parent ?? socket) as Socket;
}
