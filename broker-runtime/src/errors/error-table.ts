/**
 * Every error a broker can answer, once: its HTTP status, whether a client may send the same
 * request again as it is, and what it means. The broker's error factories (errors.ts) and the
 * HTTP layer take the status from here, the client (client/errors.ts) takes `retriable` from here,
 * and the README's error list is checked against it (test/unit/errors/error-table.test.ts).
 * Pure data with no imports: the client, which must not load server code, imports it too.
 * (KafkaJS keeps the same kind of table in src/protocol/error.js.)
 */
export const ERROR_TABLE = {
  INVALID_JSON: { status: 400, retriable: false, meaning: 'the body is not JSON (or not UTF-8)' },
  INVALID_REQUEST: { status: 400, retriable: false, meaning: 'a field is missing, ill-typed or out of range, or the request is not valid HTTP' },
  UNAUTHENTICATED: { status: 401, retriable: false, meaning: 'no token, a wrong one, or an unsigned replication frame' },
  FORBIDDEN: { status: 403, retriable: false, meaning: "the principal may not do this, or the request comes from a browser origin that is not allowed, or names a Host the broker does not answer to (--allow-host)" },
  UNKNOWN_GROUP: { status: 404, retriable: false, meaning: 'no such consumer group (Kafka: GROUP_ID_NOT_FOUND)' },
  UNKNOWN_MEMBER_ID: { status: 404, retriable: false, meaning: 'the group has no member with this id (it left, or its session expired): join again without one' },
  NOT_FOUND: { status: 404, retriable: false, meaning: 'no such route' },
  UNKNOWN_TOPIC: { status: 404, retriable: false, meaning: 'no such topic' },
  UNKNOWN_PARTITION: { status: 404, retriable: false, meaning: 'no such partition of the topic' },
  METHOD_NOT_ALLOWED: { status: 405, retriable: false, meaning: 'the route does not take this method' },
  REQUEST_TIMEOUT: { status: 408, retriable: false, meaning: 'the request was not received in time (nothing was done)' },
  TOPIC_EXISTS: { status: 409, retriable: false, meaning: 'the topic exists already' },
  ILLEGAL_GENERATION: { status: 409, retriable: false, meaning: "the request names a generation of the group that is not the current one: join again" },
  REBALANCE_IN_PROGRESS: { status: 409, retriable: false, meaning: 'the group is rebalancing: commit what you processed (if the generation still allows it) and join again' },
  INCONSISTENT_GROUP_PROTOCOL: { status: 409, retriable: false, meaning: "the member's protocol type or protocols match none of the group's" },
  NON_EMPTY_GROUP: { status: 409, retriable: false, meaning: "the group has members: offsets are reset only when it has none" },
  GROUP_MAX_SIZE_REACHED: { status: 409, retriable: false, meaning: 'the group has --max-group-members members already (Kafka: GROUP_MAX_SIZE_REACHED, group.max.size); nothing was changed' },
  TOO_MANY_PARTITIONS: { status: 409, retriable: false, meaning: 'the topics hold --max-partitions partitions already: a topic creation (POST /topics, Kafka CreateTopics or a first produce to a new name) that would pass it is refused; nothing was changed' },
  TOO_MANY_GROUPS: { status: 409, retriable: false, meaning: 'the coordinator holds --max-groups groups already: a join, commit or reset that would create another is refused; nothing was changed' },
  STALE_EPOCH: { status: 409, retriable: false, meaning: 'a replication frame from an older leadership' },
  OFFSET_METADATA_TOO_LARGE: { status: 413, retriable: false, meaning: "a committed offset's metadata is over 4096 bytes" },
  MESSAGE_TOO_LARGE: { status: 413, retriable: false, meaning: 'the body or a record is over the size limit' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retriable: false, meaning: 'the route does not take this content type' },
  INVALID_COMMIT_OFFSET: { status: 416, retriable: false, meaning: "a committed or reset offset past the partition's high-water mark (or, for a reset, below its log start)" },
  OFFSET_OUT_OF_RANGE: { status: 416, retriable: false, meaning: 'a consume below the log start (deleted by retention); consume from log_start_offset' },
  EXPECTATION_FAILED: { status: 417, retriable: false, meaning: 'an Expect header other than 100-continue' },
  NOT_LEADER: { status: 421, retriable: true, meaning: 'this broker does not lead; ask the leader (or the brokers) named' },
  THROTTLED: { status: 429, retriable: true, meaning: 'over a byte quota, or too many new tokens at once; retry after Retry-After' },
  HEADERS_TOO_LARGE: { status: 431, retriable: false, meaning: 'the request headers are too large' },
  INTERNAL: { status: 500, retriable: false, meaning: "a bug on the broker's side; its log has the details" },
  NOT_ENOUGH_REPLICAS: { status: 503, retriable: true, meaning: "fewer in-sync replicas than the topic's min.insync.replicas (default --min-insync); nothing was written" },
  UNAVAILABLE: { status: 503, retriable: true, meaning: "leadership ended or storage failed after the write began: the outcome is unknown ('outcome')" },
  COORDINATOR_LOAD_IN_PROGRESS: { status: 503, retriable: true, meaning: 'a new leader is still reading the committed offsets and groups back: ask again in a moment' },
  TIMEOUT: { status: 504, retriable: true, meaning: 'written but not committed in time: the outcome is unknown' },
  INSUFFICIENT_STORAGE: { status: 507, retriable: true, meaning: "the leader's storage refused the write; nothing was written" },
} as const satisfies Record<string, { status: number; retriable: boolean; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_TABLE;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_TABLE, code);
}
