import type { Server } from 'node:net';
import { limitConnections, type RefusedConnections } from '../net/accept-limit.js';

/**
 * REST connections a broker keeps open at once, unless --max-connections says otherwise. Each holds
 * a file descriptor (shared with --max-open-files' segment files, Kafka's sockets and replication
 * streams) and up to a request body of memory; without a cap, a client that opens sockets in a loop
 * runs the process out of descriptors, and then segment files and Redis fail too. Clients keep a few
 * pooled connections each, so 1,024 is hundreds of clients (the fuzz test's 1,000 concurrent
 * connections are spread over three brokers). Replication streams and upgraded sockets count too.
 */
export const DEFAULT_MAX_HTTP_CONNECTIONS = 1024;

export type RefusedConnectionLog = (line: string, fields: RefusedConnections) => void;

/** The REST listener's cap (net/accept-limit.ts), its refusals logged as `http.connection_refused`. */
export function limitHttpConnections(server: Server, max: number, log: RefusedConnectionLog): () => number {
  return limitConnections(server, max, (r) =>
    log(`http: closed a new connection from ${r.remote} at accept: ${max} connections are open (--max-connections); ${r.refused_total} refused in all`, r),
  );
}
