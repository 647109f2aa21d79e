import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { OPEN_GATE, type Gate } from '../auth/gate.js';
import type { BrokerService } from '../broker/service.js';
import { createApiApp } from './api-routes.js';
import type { HttpContext } from './context.js';
import { createBrowserGuard } from './browser-guard.js';
import { FRAMING_ALLOWANCE_BYTES } from './body.js';
import { ERROR_TABLE, type ErrorCode } from '../errors/error-table.js';
import { YakError } from '../errors/errors.js';
import { JSON_CONTENT_TYPE, clip, writeError, type Logger } from './errors.js';
import { createHotRoutes } from './hot-routes.js';
import { createReplicaStreams, proveUpgrade, unprovenUpgradeAnswer } from './replica-stream.js';
import { DEFAULT_MAX_HTTP_CONNECTIONS, createHttpConnectionLimit } from './connection-limit.js';
import { createReplicaAdmission, isReplicaAppend } from './replica-admission.js';
import { keepPausedTlsConnectionsPaused } from './tls-pause.js';

export interface BrokerServerOptions {
  /** Largest record (payload + key + headers) in bytes; request bodies may add FRAMING_ALLOWANCE_BYTES. */
  maxMessageBytes: number;
  /** Largest replication frame accepted on POST /replica/append; default max(4 × maxMessageBytes, 16 MiB). */
  maxReplicaFrameBytes?: number;
  /** Browser origins allowed to call the broker (--allow-origin); default none. */
  allowedOrigins?: readonly string[];
  /**
   * Host names answered besides IP literals and localhost (--allow-host, the advertised URL's host,
   * a named --host; `*` = any); default none. Other Hosts get 403 (DNS rebinding, host-check.ts).
   */
  allowedHosts?: readonly string[];
  /** Where internal errors are reported; default stderr. */
  logger?: (line: string) => void;
  /** Client authentication, permissions and quotas (--auth-file); default open. */
  gate?: Gate;
  /** Serve HTTPS with these (cert and key; for mutual TLS also ca, requestCert, rejectUnauthorized); default plain HTTP. */
  tls?: TlsServerOptions;
  /** Accept replication streams (GET /replica/stream, Upgrade: yak-replication/1); default true. */
  replicationStreams?: boolean;
  /** Called once per request when it ends (the request log, at --log-level debug); unset costs nothing. */
  requestLog?: (entry: RequestLogEntry) => void;
  /** Connections served at once (--max-connections; default DEFAULT_MAX_HTTP_CONNECTIONS); past it only proven replication connections are kept (connection-limit.ts). */
  maxConnections?: number;
  /** Where refused connections are reported (at most one line per 10 s); default `logger`. */
  warn?: (line: string, event: string, fields: Record<string, string | number>) => void;
  /** Counts what was refused to protect the broker (for /metrics): a connection past the cap, a replication POST past its cap. */
  onRefused?: (reason: RefusedReason) => void;
}

export type RefusedReason = 'connection_limit' | 'replica_throttled';

/** One line of the request log. Never a header or a body: tokens stay out of logs. */
export interface RequestLogEntry {
  method: string;
  /** Path and query, clipped. */
  path: string;
  status: number;
  duration_ms: number;
  /** The client closed the connection before the answer was written. */
  aborted: boolean;
  remote: string;
}

export type TlsServerOptions = Pick<https.ServerOptions, 'cert' | 'key' | 'ca' | 'requestCert' | 'rejectUnauthorized'>;

/**
 * Slow clients (slowloris) cannot hold a connection for long: one that sends nothing, or its headers
 * a byte at a time, is answered 408 and closed HEADERS_TIMEOUT_MS after it began (node checks every
 * 30 s, so within ~96 s); one that trickles its body, REQUEST_TIMEOUT_MS after it began; an idle
 * keep-alive connection after KEEP_ALIVE_TIMEOUT_MS. Together with --max-connections this bounds
 * what a client that cannot be served holds. Upgraded replication streams leave node's tracking and
 * are bounded by their own idle timeout (replica-stream.ts), so they stay open for as long as frames flow.
 *
 * Above the idle timeouts of common clients and load balancers (60 s), so they close first.
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
const HEADERS_TIMEOUT_MS = 66_000;
/** Bounds a slow sender (slowloris); Node requires it to be at least HEADERS_TIMEOUT_MS. Long polls are unaffected: it ends once the request is read. */
const REQUEST_TIMEOUT_MS = 70_000;

/**
 * The broker's HTTP server, not yet listening: a plain node:http handler serves the hot routes
 * and passes every other request to the express API app. With `tls`, the same handler behind HTTPS.
 */
export function createBrokerServer(service: BrokerService, options: BrokerServerOptions): http.Server | https.Server {
  const { maxMessageBytes } = options;
  if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes <= 0) {
    throw new RangeError(`maxMessageBytes must be a positive integer; got ${maxMessageBytes}`);
  }
  const base = {
    service,
    maxMessageBytes,
    bodyLimit: maxMessageBytes + FRAMING_ALLOWANCE_BYTES,
    replicaBodyLimit: options.maxReplicaFrameBytes ?? Math.max(4 * maxMessageBytes, 16 * 1024 * 1024),
    log: options.logger ?? ((line: string) => process.stderr.write(`${line}\n`)),
    gate: options.gate ?? OPEN_GATE,
  };
  const warn = options.warn ?? ((line: string) => base.log(line));
  const connections = createHttpConnectionLimit(
    options.maxConnections ?? DEFAULT_MAX_HTTP_CONNECTIONS,
    (line, fields) => warn(line, 'http.connection_refused', fields),
    () => options.onRefused?.('connection_limit'),
  );
  const ctx: HttpContext = { ...base, connections, replicaAdmission: createReplicaAdmission({ ...base, connections }, () => options.onRefused?.('replica_throttled')) };
  const hot = createHotRoutes(ctx);
  const api = createApiApp(ctx);
  const guard = createBrowserGuard(options.allowedOrigins ?? [], options.allowedHosts ?? []);
  const requestLog = options.requestLog;
  const server = createServer(
    options.tls,
    {
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      noDelay: true,
    },
    (req, res) => {
      // Past --max-connections only a replication POST is read (replica-admission.ts decides); any
      // other first request is closed unanswered, as the connection would have been at accept.
      if (connections.onProbation(req.socket) && !isReplicaAppend(req)) {
        connections.refuse(req.socket);
        return;
      }
      if (requestLog) logWhenDone(req, res, requestLog);
      const verdict = guard(req, res);
      if (verdict === 'answered') return;
      if (verdict !== 'pass') {
        // Refused before anything is read: the body is not wanted, so the connection cannot be reused.
        res.shouldKeepAlive = false;
        writeError(res, verdict, ctx.log);
        return;
      }
      if (!hot(req, res)) api(req, res);
    },
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Past --max-connections a request node cannot parse is no proven replication request either:
    // closed unanswered and counted, as any other first request there.
    if (connections.onProbation(socket)) return connections.refuse(socket);
    answerClientError(err, socket);
  });
  connections.attach(server);
  // Replication streams from the leader (replication/stream-protocol.ts). Upgraded sockets leave
  // node's connection tracking, so close() must drop them itself or it would wait for them.
  // Without an 'upgrade' listener node serves an upgrade request as a plain request: GET
  // /replica/stream answers 404, as on brokers from before streams, and leaders fall back to POST.
  if (options.replicationStreams ?? true) {
    const streams = createReplicaStreams(ctx);
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!connections.onProbation(socket)) return streams.onUpgrade(req, socket, head);
      // A leader of an older version opens its stream without the proof: told (429) to post its
      // frames instead, whose proof it can give; refused and closed all the same (replica-stream.ts).
      const answer = unprovenUpgradeAnswer(req, ctx);
      if (answer !== null) return connections.refuseWithAnswer(socket, answer);
      // Past --max-connections the upgrade itself must prove the frame key (x-yak-frame-sender):
      // nothing is read from the socket meanwhile (the leader sends frames only after the 101).
      socket.pause();
      void proveUpgrade(ctx, req).then((proven) => {
        if (socket.destroyed) return;
        if (!proven) return connections.refuse(socket);
        connections.promote(socket);
        socket.resume(); // flows once the stream's 'data' listener is on (resume acts on the next tick)
        streams.onUpgrade(req, socket, head);
      });
    });
    const close = server.close.bind(server);
    server.close = (callback?: (err?: Error) => void) => {
      streams.closeAll();
      return close(callback);
    };
  }
  // Without a listener node answers an unknown Expect with a bare 417; answer it in JSON like every error.
  server.on('checkExpectation', (req, res) => {
    if (connections.onProbation(req.socket)) return connections.refuse(req.socket);
    res.shouldKeepAlive = false; // the body was never asked for, so the connection cannot be reused
    writeError(res, YakError.of('EXPECTATION_FAILED', `Expect: '${clip(String(req.headers.expect))}' is not supported (only 100-continue)`), ctx.log);
  });
  return server;
}

function logWhenDone(req: http.IncomingMessage, res: http.ServerResponse, log: (entry: RequestLogEntry) => void): void {
  const started = performance.now();
  // 'close' comes for every request, answered or not ('finish' only for answered ones).
  res.once('close', () =>
    log({
      method: req.method ?? '',
      path: clip(req.url ?? '', 200),
      status: res.statusCode,
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
      aborted: !res.writableFinished,
      remote: req.socket.remoteAddress ?? '',
    }),
  );
}

/** node:http, or node:https when TLS is configured: same options (timeouts included), same handler. */
function createServer(tls: TlsServerOptions | undefined, options: http.ServerOptions, handler: http.RequestListener): http.Server | https.Server {
  if (!tls) return http.createServer(options, handler);
  const server = https.createServer({ ...options, ...tls }, handler);
  // Without it, a keep-alive client that sends a request with a body while its previous answer is
  // still draining (a busy broker, or a pipelining client) has its connection reset (HPE_PAUSED).
  keepPausedTlsConnectionsPaused(server);
  return server;
}

/** Requests node:http cannot parse or that time out still get a JSON answer, never a bare status line. */
function answerClientError(err: NodeJS.ErrnoException, socket: import('node:stream').Duplex): void {
  // An answer already under way (its head sent) on this connection would be cut by our 400 in the
  // middle of its body, so the client could not tell where one answer ends: close instead, as
  // node:http's own default clientError handler does (it checks `_httpMessage._headerSent`).
  const answering = (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage?.headersSent === true;
  if (err.code === 'ECONNRESET' || !socket.writable || answering) {
    socket.destroy();
    return;
  }
  const [code, message]: [ErrorCode, string] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? ['REQUEST_TIMEOUT', 'the request was not received in time']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? ['HEADERS_TOO_LARGE', 'the request headers are too large']
        : ['INVALID_REQUEST', 'the request is not valid HTTP/1.1'];
  const { status } = ERROR_TABLE[code];
  const body = JSON.stringify({ error: code, message });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: ${JSON_CONTENT_TYPE}\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
