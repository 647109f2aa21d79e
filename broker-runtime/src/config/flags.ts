/**
 * Environment twins: the seed's own names (BROKER_ID, PORT, FLASK_RUN_PORT, REDIS_URL, REDIS_HOST,
 * REDIS_PORT, REDIS_SENTINELS, REDIS_MASTER_NAME, REDIS_SENTINEL_PASSWORD, LEASE_TIME_SECONDS, RENEW_INTERVAL_SECONDS) and DESIGN.md's (CLUSTER_ID,
 * DEFAULT_PARTITIONS, MIN_INSYNC_REPLICAS, AUTH_FILE, TLS_*) are kept; every other twin is
 * `YAK_`-prefixed, because generic names collide with the rest of a shell: zsh sets HOST to the
 * machine name, and a broker once tried to listen on it. DATA_DIR and ADVERTISED_URL are still read,
 * after their YAK_ twins.
 *
 * The broker's flags, their environment twins and defaults: one table that both the parser
 * (parse.ts) and the help text (help.ts) read, so the two cannot drift apart.
 * The first twin in `env` wins over the later ones; a flag wins over every twin.
 */
export interface FlagSpec {
  /** Flag name without the leading `--`. */
  name: string;
  /** Environment twins, highest precedence first. */
  env: readonly string[];
  /** Placeholder shown after the flag in help; absent for a boolean flag. */
  arg?: string;
  /** Default as shown in help. */
  default: string;
  help: string;
  /** What help shows in the env column when it is more than the list of names. */
  envHelp?: string;
}

export const FLAGS: readonly FlagSpec[] = [
  { name: 'id', env: ['BROKER_ID'], arg: 'ID', default: 'broker-<hostname>', help: 'broker id: 1-64 of A-Z a-z 0-9 . _ -' },
  { name: 'host', env: ['YAK_HOST'], arg: 'HOST', default: '127.0.0.1', help: 'address the HTTP API listens on' },
  {
    name: 'port', env: ['PORT', 'FLASK_RUN_PORT'], arg: 'PORT', default: '5001',
    help: 'HTTP port, 1-65535', envHelp: 'PORT, FLASK_RUN_PORT',
  },
  {
    name: 'advertised-url', env: ['YAK_ADVERTISED_URL', 'ADVERTISED_URL'], arg: 'URL', default: 'http://<host>:<port>',
    help: 'URL other brokers and clients reach this one at (https:// with --tls-cert, else http://)',
  },
  { name: 'data-dir', env: ['YAK_DATA_DIR', 'DATA_DIR'], arg: 'DIR', default: './data/<id>', help: 'folder of the partition logs' },
  {
    name: 'redis', env: ['REDIS_URL'], arg: 'URL', default: 'redis://localhost:6379',
    help: 'Redis for leases and membership (redis:// or rediss://)', envHelp: 'REDIS_URL (*)',
  },
  {
    name: 'redis-sentinels', env: ['REDIS_SENTINELS'], arg: 'HOST:PORT,...', default: 'none (one server)',
    help: 'find the Redis master through these Redis Sentinels (port 26379 if left out); --redis then gives only scheme, user, password and database',
  },
  {
    name: 'redis-master-name', env: ['REDIS_MASTER_NAME'], arg: 'NAME', default: 'mymaster',
    help: 'the master\'s name in the Sentinels (sentinel monitor NAME ...); only with --redis-sentinels',
  },
  {
    name: 'redis-sentinel-password', env: ['REDIS_SENTINEL_PASSWORD'], arg: 'PASSWORD', default: 'none',
    help: 'password of the Sentinels (requirepass in sentinel.conf); prefer the variable: ps shows flags',
  },
  {
    name: 'redis-wait-replicas', env: ['YAK_REDIS_WAIT_REPLICAS'], arg: 'N', default: '1 with Sentinels, else 0',
    help: 'Redis replicas that must acknowledge (WAIT) a new lease or in-sync set before the broker acts on it, 0-16',
  },
  { name: 'cluster', env: ['CLUSTER_ID'], arg: 'NAME', default: 'yak', help: 'namespace of every Redis key (like --id)' },
  { name: 'lease-seconds', env: ['LEASE_TIME_SECONDS'], arg: 'SECONDS', default: '10', help: 'leader lease length' },
  {
    name: 'renew-seconds', env: ['RENEW_INTERVAL_SECONDS'], arg: 'SECONDS', default: '5',
    help: 'how often the leader renews its lease (< lease)',
  },
  { name: 'partitions', env: ['DEFAULT_PARTITIONS'], arg: 'N', default: '3', help: 'partitions of a topic created on first produce, 1-1000' },
  { name: 'min-insync', env: ['MIN_INSYNC_REPLICAS'], arg: 'N', default: '1', help: 'in-sync replicas (leader included) a produce needs' },
  {
    name: 'replica-lag-seconds', env: ['YAK_REPLICA_LAG_SECONDS'], arg: 'SECONDS', default: '= lease seconds',
    help: 'a follower behind this long leaves the in-sync set',
  },
  {
    name: 'unclean-election', env: ['YAK_UNCLEAN_ELECTION'], default: 'false',
    help: 'let an out-of-sync broker lead (may lose records); env: true/1',
  },
  { name: 'segment-bytes', env: ['YAK_SEGMENT_BYTES'], arg: 'BYTES', default: '67108864 (64 MiB)', help: 'roll to a new log segment at this size, >= 1024' },
  {
    name: 'retention-hours', env: ['RETENTION_HOURS'], arg: 'HOURS', default: '168 (7 days)',
    help: 'delete a log segment once its newest record is this old (fractions allowed; -1 = never); topics may override (retention.ms)',
  },
  {
    name: 'retention-bytes', env: ['RETENTION_BYTES'], arg: 'BYTES', default: '-1 (unlimited)',
    help: 'per partition: delete the oldest segments while at least this much stays; topics may override (retention.bytes)',
  },
  {
    name: 'retention-check-seconds', env: ['YAK_RETENTION_CHECK_SECONDS'], arg: 'SECONDS', default: '30',
    help: 'how often the leader applies retention',
  },
  { name: 'fsync', env: ['YAK_FSYNC'], arg: 'POLICY', default: 'interval', help: 'always | interval | never' },
  { name: 'fsync-interval-ms', env: ['YAK_FSYNC_INTERVAL_MS'], arg: 'MS', default: '1000', help: 'fsync period under --fsync interval' },
  {
    name: 'max-open-files', env: ['YAK_MAX_OPEN_FILES'], arg: 'N', default: '512',
    help: 'segment files kept open at once (least recently used closed first); keep it well below the process open-file limit (ulimit -n), which sockets share',
  },
  {
    name: 'max-groups', env: ['YAK_MAX_GROUPS'], arg: 'N', default: '10000',
    help: 'consumer groups the coordinator holds at most (a join, commit or reset that would create one more is refused 409 TOO_MANY_GROUPS)',
  },
  {
    name: 'max-partitions', env: ['YAK_MAX_PARTITIONS'], arg: 'N', default: '20000',
    help: 'partitions the cluster holds at most over all topics (a topic creation, explicit or by a first produce, that would pass it is refused 409 TOO_MANY_PARTITIONS)',
  },
  {
    name: 'max-group-members', env: ['YAK_MAX_GROUP_MEMBERS'], arg: 'N', default: '1000',
    help: 'members one consumer group may have (a join past it is refused 409 GROUP_MAX_SIZE_REACHED, as Kafka\'s group.max.size)',
  },
  {
    name: 'max-connections', env: ['YAK_MAX_CONNECTIONS'], arg: 'N', default: '1024',
    help: 'HTTP connections served at once (clients, replication, streams); past it a new one is kept only if its first request is the leader\'s replication request proving the frame key, others are closed unanswered (a stream upgrade of an older leader: 429, so it posts) and logged; they share ulimit -n with segment files and Kafka',
  },
  { name: 'max-message-bytes', env: ['YAK_MAX_MESSAGE_BYTES'], arg: 'BYTES', default: '1048576 (1 MiB)', help: 'largest accepted request body (413 above)' },
  {
    name: 'produce-timeout-seconds', env: ['YAK_PRODUCE_TIMEOUT_SECONDS'], arg: 'SECONDS', default: '30',
    help: 'how long a produce waits for its records to commit',
  },
  {
    name: 'allow-origin', env: ['YAK_ALLOW_ORIGIN'], arg: 'ORIGINS', default: '(none)',
    help: 'comma-separated browser origins (scheme://host:port) allowed to call this broker; * for any',
  },
  {
    name: 'allow-host', env: ['YAK_ALLOW_HOST'], arg: 'NAMES', default: '(none)',
    help: 'comma-separated host names requests may name in their Host header besides IP addresses, localhost and the advertised URL\'s host (others get 403: DNS rebinding); * for any',
  },
  { name: 'log-level', env: ['YAK_LOG_LEVEL'], arg: 'LEVEL', default: 'info', help: 'debug | info | warn | error (debug adds a line per HTTP request)' },
  {
    name: 'log-format', env: ['YAK_LOG_FORMAT'], arg: 'FORMAT', default: 'text',
    help: 'text | json (one object per line: time, level, broker, event, message, fields)',
  },
  {
    name: 'auth-file', env: ['AUTH_FILE'], arg: 'PATH', default: 'none (open)',
    help: 'clients need a token of a principal in this JSON file (docs/security.md); SIGHUP reloads it',
  },
  {
    name: 'insecure', env: ['YAK_INSECURE'], default: 'false',
    help: 'listen on a non-loopback --host without --auth-file (protected mode off); env: true/1',
  },
  {
    name: 'tls-cert', env: ['TLS_CERT'], arg: 'PATH', default: 'none (plain HTTP)',
    help: 'PEM certificate (chain): serve HTTPS for clients and replication; also this broker\'s client certificate',
  },
  { name: 'tls-key', env: ['TLS_KEY'], arg: 'PATH', default: 'none', help: 'PEM private key of --tls-cert (unencrypted)' },
  {
    name: 'tls-ca', env: ['TLS_CA'], arg: 'PATH', default: 'system CAs',
    help: 'PEM CA bundle trusted for other brokers, rediss:// Redis and client certificates',
  },
  {
    name: 'tls-client-auth', env: ['TLS_CLIENT_AUTH'], default: 'false',
    help: 'mutual TLS: require a client certificate signed by --tls-ca; env: true/1',
  },
  {
    name: 'kafka-port', env: ['KAFKA_PORT'], arg: 'PORT', default: 'off',
    help: "also speak Kafka's binary protocol on --host:PORT (kcat, KafkaJS, librdkafka clients)",
  },
  {
    name: 'kafka-advertised', env: ['KAFKA_ADVERTISED'], arg: 'HOST:PORT', default: '<URL host>:<kafka-port>',
    help: 'the address Kafka clients are told (Metadata) to reach this broker at',
  },
  {
    name: 'kafka-max-connections', env: ['KAFKA_MAX_CONNECTIONS'], arg: 'N', default: '256',
    help: 'Kafka connections open at once; past it a new one is closed at accept (logged); they share ulimit -n with segment files and REST',
  },
  {
    name: 'replication-stream', env: ['YAK_REPLICATION_STREAM'], arg: 'on|off', default: 'on',
    help: 'replicate over one upgraded connection per follower on --port; off: one HTTP POST per frame',
  },
  { name: 'node-id', env: ['NODE_ID'], arg: 'N', default: 'derived from --id', help: 'the int32 broker id Kafka clients see, 0-2147483647, unique in the cluster' },
];

export const FLAGS_BY_NAME: ReadonlyMap<string, FlagSpec> = new Map(FLAGS.map((f) => [f.name, f]));
