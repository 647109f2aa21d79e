import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import type { Logger } from '../logger.js';
import type { KafkaAuth, KafkaBackend } from './backend.js';
import { KafkaConnection } from './connection.js';
import { DEFAULT_MAX_CONNECTIONS } from './connection-limit.js';
import { limitConnections } from '../net/accept-limit.js';

export interface KafkaListenerOptions {
  backend: KafkaBackend;
  auth: KafkaAuth | null;
  log: Logger;
  /** The same certificate as the REST API (--tls-cert), or plain TCP. */
  tls?: TlsOptions;
  /** With an auth file, how long a connection may stay unauthenticated (default AUTH_DEADLINE_MS). */
  authDeadlineMs?: number;
  /** Connections open at once (--kafka-max-connections; default DEFAULT_MAX_CONNECTIONS); past it new ones are closed at accept. */
  maxConnections?: number;
}


/** Time to finish SASL after connecting (Kafka clients authenticate first thing; a TLS handshake and a scrypt check fit easily). */
export const AUTH_DEADLINE_MS = 30_000;

/** Requests of one connection in the works at once (librdkafka pipelines 5 by default, max 1,000,000). */
const MAX_IN_FLIGHT = 64;
/** Fetches of one connection worked on at once: each may answer FETCH_MAX_BYTES (librdkafka and KafkaJS send one at a time). */
const MAX_IN_FLIGHT_FETCHES = 4;
/** Room beyond --max-message-bytes for a Produce's other partitions and fields. */
const REQUEST_SLACK_BYTES = 1 << 20;
const MIN_REQUEST_CAP = 8 << 20;

export interface KafkaListener {
  server: Server;
  /** Stop accepting and close every open connection. */
  close(): void;
}

/** The Kafka listener: a TCP (or TLS) server whose connections speak Kafka's binary protocol. */
export function createKafkaServer(options: KafkaListenerOptions): KafkaListener {
  const connections = new Set<KafkaConnection>();
  const maxRequestBytes = Math.max(MIN_REQUEST_CAP, 2 * options.backend.maxMessageBytes + REQUEST_SLACK_BYTES);
  const accept = (socket: Socket): void => {
    const c = new KafkaConnection(socket, { backend: options.backend, auth: options.auth, log: options.log, maxRequestBytes, maxInFlight: MAX_IN_FLIGHT, maxInFlightBytes: maxRequestBytes, maxInFlightFetches: MAX_IN_FLIGHT_FETCHES, authDeadlineMs: options.authDeadlineMs ?? AUTH_DEADLINE_MS });
    connections.add(c);
    socket.on('close', () => connections.delete(c));
  };
  const server = options.tls ? createTlsServer(options.tls, accept) : createTcpServer(accept);
  // Clients that vanish mid-handshake or reset: their sockets close, nothing else to do.
  server.on('tlsClientError', () => {});
  // Node closes a connection past maxConnections as it is accepted (before any TLS handshake) and
  // says so with 'drop'; TCP connections are counted, TLS ones still shaking hands included.
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  limitConnections(server, maxConnections, (r) =>
    options.log('warn', `kafka: closed a new connection from ${r.remote} at accept: ${maxConnections} connections are open (--kafka-max-connections); ${r.refused_total} refused in all`, 'kafka.connection_refused', { ...r }),
  );
  return {
    server,
    close: () => {
      server.close();
      for (const c of connections) c.close();
    },
  };
}
