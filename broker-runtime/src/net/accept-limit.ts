import type { Server } from 'node:net';

/** At most one report per this many ms about refused connections (a flood must not flood the log too). */
const REFUSED_LOG_EVERY_MS = 10_000;

export type RefusedConnections = {
  /** Where the connection that triggered this report came from (`host:port`, or 'a client'). */
  remote: string;
  max_connections: number;
  /** Connections refused since the listener started. */
  refused_total: number;
};

/**
 * Counts refused connections and reports them at most once per REFUSED_LOG_EVERY_MS: call the
 * answer with each refused connection's peer. `count()` is the number refused so far.
 */
export function refusalCounter(max: number, report: (refused: RefusedConnections) => void): { refused(peer?: { remoteAddress?: string; remotePort?: number }): void; count(): number } {
  let refused = 0;
  let lastReport = -Infinity;
  return {
    refused(peer) {
      refused++;
      const now = performance.now();
      if (now - lastReport < REFUSED_LOG_EVERY_MS) return;
      lastReport = now;
      report({ remote: peer?.remoteAddress ? `${peer.remoteAddress}:${peer.remotePort}` : 'a client', max_connections: max, refused_total: refused });
    },
    count: () => refused,
  };
}

/**
 * Caps the connections `server` keeps open (the Kafka listener). node closes a connection past
 * `server.maxConnections` as it is accepted (before a TLS handshake costs anything, and before a
 * byte is read) and emits 'drop'; the refusals are counted and reported at most once per
 * REFUSED_LOG_EVERY_MS. Nothing can be answered on such a connection (with TLS, not even an error):
 * the client sees it closed at once. Answers the count of refused connections so far.
 */
export function limitConnections(server: Server, max: number, report: (refused: RefusedConnections) => void): () => number {
  if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`maxConnections must be a positive integer; got ${max}`);
  server.maxConnections = max;
  const counter = refusalCounter(max, report);
  server.on('drop', (dropped?: { remoteAddress?: string; remotePort?: number }) => counter.refused(dropped));
  return counter.count;
}
