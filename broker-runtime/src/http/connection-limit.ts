import type { Server } from 'node:net';

/**
 * REST connections a broker keeps open at once, unless --max-connections says otherwise. Each holds
 * a file descriptor (shared with --max-open-files' segment files, Kafka's sockets and replication
 * streams) and up to a request body of memory; without a cap, a client that opens sockets in a loop
 * runs the process out of descriptors, and then segment files and Redis fail too. Clients keep a few
 * pooled connections each, so 1,024 is hundreds of clients (the fuzz test's 1,000 concurrent
 * connections are spread over three brokers). Replication streams and upgraded sockets count too.
 */
export const DEFAULT_MAX_HTTP_CONNECTIONS = 1024;

/** At most one log line per this many ms about refused connections (a flood must not flood the log too). */
const REFUSED_LOG_EVERY_MS = 10_000;

export type RefusedConnectionLog = (line: string, fields: { remote: string; max_connections: number; refused_total: number }) => void;

/**
 * Caps the connections `server` keeps open. node closes a connection past `server.maxConnections`
 * as it is accepted (before a TLS handshake costs anything, and before a byte is read) and emits
 * 'drop'; the refusals are counted and logged at most once per REFUSED_LOG_EVERY_MS. Nothing can be
 * answered on such a connection (with TLS, not even an error): the client sees it closed at once.
 * Answers the count of refused connections so far (for /metrics and tests).
 */
export function limitConnections(server: Server, max: number, log: RefusedConnectionLog): () => number {
  if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`maxConnections must be a positive integer; got ${max}`);
  server.maxConnections = max;
  let refused = 0;
  let lastLog = -Infinity;
  server.on('drop', (dropped?: { remoteAddress?: string; remotePort?: number }) => {
    refused++;
    const now = performance.now();
    if (now - lastLog < REFUSED_LOG_EVERY_MS) return;
    lastLog = now;
    const from = dropped?.remoteAddress ? `${dropped.remoteAddress}:${dropped.remotePort}` : 'a client';
    log(`http: closed a new connection from ${from} at accept: ${max} connections are open (--max-connections); ${refused} refused in all`, {
      remote: from,
      max_connections: max,
      refused_total: refused,
    });
  });
  return () => refused;
}
