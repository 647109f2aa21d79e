/**
 * The Kafka APIs this listener implements, with the versions it speaks — exactly what ApiVersions
 * advertises. Ranges stop below each API's first flexible version (compact encodings and tagged
 * fields), except ApiVersions v3, which librdkafka sends first. Chosen from what the clients need:
 * librdkafka 2.0 (rdkafka_request.c / rdkafka_feature.c: MsgVer2 needs Produce 3 and Fetch 4) and
 * KafkaJS 2.2.4 (src/protocol/requests/*: Produce ≤ 7, Fetch ≤ 11, Metadata ≤ 6, ListOffsets ≤ 3,
 * CreateTopics ≤ 3, ApiVersions ≤ 2). Consumer groups: JoinGroup stops at v3 (v4 adds the
 * MEMBER_ID_REQUIRED round); the others stop below their flexible versions.
 */
export const API = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
  DescribeGroups: 15,
  ListGroups: 16,
  SaslHandshake: 17,
  ApiVersions: 18,
  CreateTopics: 19,
  InitProducerId: 22,
  SaslAuthenticate: 36,
} as const;

export interface VersionRange {
  key: number;
  min: number;
  max: number;
  /** What ApiVersions says the minimum is, when that differs from `min` (Produce: see below). */
  advertisedMin?: number;
}

export const SUPPORTED: readonly VersionRange[] = [
  // Advertised from v0, served from v3, as Kafka 4 does (KAFKA-18659): librdkafka before 2.10
  // compresses only when the broker's Produce range includes v0 (librdkafka issue 4956), else it
  // sends gzip/snappy/lz4 batches uncompressed. Clients use the highest version both speak (7);
  // a Produce v0–2 request still closes the connection.
  { key: API.Produce, min: 3, max: 7, advertisedMin: 0 },
  { key: API.Fetch, min: 4, max: 11 },
  { key: API.ListOffsets, min: 1, max: 5 },
  { key: API.Metadata, min: 1, max: 8 },
  { key: API.OffsetCommit, min: 2, max: 7 },
  { key: API.OffsetFetch, min: 1, max: 5 },
  { key: API.FindCoordinator, min: 0, max: 2 },
  { key: API.JoinGroup, min: 0, max: 3 },
  { key: API.Heartbeat, min: 0, max: 3 },
  { key: API.LeaveGroup, min: 0, max: 3 },
  { key: API.SyncGroup, min: 0, max: 3 },
  { key: API.DescribeGroups, min: 0, max: 4 },
  { key: API.ListGroups, min: 0, max: 2 },
  { key: API.ApiVersions, min: 0, max: 3 },
  { key: API.CreateTopics, min: 0, max: 4 },
  // Idempotent producers (no transactions); v2 is flexible. KafkaJS speaks 0–1, librdkafka 0–4.
  { key: API.InitProducerId, min: 0, max: 1 },
];

/** Advertised only when the broker has --auth-file (SASL/PLAIN with the file's principals). */
export const SASL_APIS: readonly VersionRange[] = [
  // v1 wraps the SASL token in SaslAuthenticate; after v0 the token follows as a bare size-prefixed
  // frame. librdkafka's feature table needs v0 in the range to use SASL at all.
  { key: API.SaslHandshake, min: 0, max: 1 },
  { key: API.SaslAuthenticate, min: 0, max: 1 },
];

export function supportedRange(key: number, sasl: boolean): VersionRange | undefined {
  return SUPPORTED.find((r) => r.key === key) ?? (sasl ? SASL_APIS.find((r) => r.key === key) : undefined);
}
