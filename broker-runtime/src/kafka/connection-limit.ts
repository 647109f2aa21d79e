/**
 * Kafka connections a broker keeps open at once, unless --kafka-max-connections says otherwise.
 * Each holds a file descriptor (shared with --max-open-files' 512 segment files and REST's sockets,
 * under a `ulimit -n` often of 1,024) and up to ~2 × --max-message-bytes of buffers; a Kafka client
 * opens about one per broker, so 256 is 256 clients. Kafka's own max.connections is unlimited by default.
 */
export const DEFAULT_MAX_CONNECTIONS = 256;
