import { COMPRESSION_TYPES, type CompressionType } from './compression/choice.js';
import type { RetentionPolicy } from './retention.js';

/**
 * Per-topic configuration overrides, under Kafka's names. A key that is absent takes the broker's
 * default (--retention-hours, --retention-bytes, --min-insync; `producer` for compression.type);
 * for retention -1 means unlimited, as in Kafka.
 */
export interface TopicConfig {
  /** Delete a segment once its newest record is older than this many ms. */
  'retention.ms'?: number;
  /** Delete the oldest segments while the partition would still hold at least this many bytes. */
  'retention.bytes'?: number;
  /** How records are stored: a codec (none, gzip, lz4), or `producer` (the default) = as each producer asks. */
  'compression.type'?: CompressionType;
  /**
   * In-sync replicas (leader included) a produce to this topic needs, and without which its
   * high-water mark stands still (Kafka's min.insync.replicas). Changed live: the leader reads it
   * on every produce and every high-water-mark decision.
   */
  'min.insync.replicas'?: number;
  /**
   * What happens to old records (Kafka's names): `delete` (the default) = retention deletes old
   * segments; `compact` = log compaction keeps the latest record per key and retention does not
   * apply; `compact,delete` = both. __consumer_offsets is always `compact`.
   */
  'cleanup.policy'?: CleanupPolicy;
  /** In a compacted topic, how long a tombstone (a record whose payload is JSON null) stays before compaction drops it. */
  'delete.retention.ms'?: number;
}

export const CLEANUP_POLICIES = ['delete', 'compact', 'compact,delete'] as const;
export type CleanupPolicy = (typeof CLEANUP_POLICIES)[number];
/** Kafka's default delete.retention.ms: one day. */
export const DEFAULT_DELETE_RETENTION_MS = 86_400_000;

export const TOPIC_CONFIG_KEYS = ['retention.ms', 'retention.bytes', 'compression.type', 'min.insync.replicas', 'cleanup.policy', 'delete.retention.ms'] as const;
export type TopicConfigKey = (typeof TOPIC_CONFIG_KEYS)[number];

/** The broker's defaults for every key (its flags). */
export interface TopicDefaults extends RetentionPolicy {
  minInsync: number;
}

const isKey = (k: string): k is TopicConfigKey => (TOPIC_CONFIG_KEYS as readonly string[]).includes(k);

/** A value for a config key, else why not: retention takes a safe integer >= -1 (-1 = unlimited), min.insync.replicas one >= 1, compression.type a codec name. */
function checkValue(key: TopicConfigKey, value: unknown): string | undefined {
  if (key === 'compression.type') {
    if (typeof value === 'string' && (COMPRESSION_TYPES as readonly string[]).includes(value)) return undefined;
    return `compression.type must be one of ${COMPRESSION_TYPES.join(', ')}, got ${JSON.stringify(value)?.slice(0, 80)}`;
  }
  if (key === 'cleanup.policy') {
    if (typeof value === 'string' && (CLEANUP_POLICIES as readonly string[]).includes(value)) return undefined;
    return `cleanup.policy must be one of ${CLEANUP_POLICIES.join(', ')}, got ${JSON.stringify(value)?.slice(0, 80)}`;
  }
  if (key === 'delete.retention.ms') {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) return `${key} must be an integer >= 0, got ${JSON.stringify(value)}`;
    return undefined;
  }
  if (key === 'min.insync.replicas') {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) return `${key} must be an integer >= 1 (the leader counts), got ${JSON.stringify(value)}`;
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < -1) return `${key} must be an integer >= -1 (-1 = unlimited), got ${JSON.stringify(value)}`;
  return undefined;
}

/**
 * A whole config object (as stored in topics.json, sent in a replication frame, or given to
 * POST /topics): only known keys, each a valid value. Returns the config, or the reason it is not one.
 */
export function checkTopicConfig(value: unknown): TopicConfig | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'config must be a JSON object';
  const out: TopicConfig = {};
  for (const [k, v] of Object.entries(value)) {
    if (!isKey(k)) return `unknown config key '${k.slice(0, 80)}'; known: ${TOPIC_CONFIG_KEYS.join(', ')}`;
    const bad = checkValue(k, v);
    if (bad) return bad;
    (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

/**
 * A change (POST /topics/{name}/config): like checkTopicConfig, but a key set to null removes the
 * override (back to the broker's default). Returns the merged config, or the reason it is invalid.
 */
export function applyConfigChange(current: TopicConfig, change: unknown): TopicConfig | string {
  if (typeof change !== 'object' || change === null || Array.isArray(change)) return 'config must be a JSON object';
  const out: TopicConfig = { ...current };
  for (const [k, v] of Object.entries(change)) {
    if (!isKey(k)) return `unknown config key '${k.slice(0, 80)}'; known: ${TOPIC_CONFIG_KEYS.join(', ')}`;
    if (v === null) {
      delete out[k];
      continue;
    }
    const bad = checkValue(k, v);
    if (bad) return bad;
    (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

/** Same keys and values (absent = absent). */
export function sameConfig(a: TopicConfig | undefined, b: TopicConfig | undefined): boolean {
  return TOPIC_CONFIG_KEYS.every((k) => a?.[k] === b?.[k]);
}

/** The limits that apply to a topic's partitions: its overrides over the broker's defaults. */
export function retentionPolicy(defaults: RetentionPolicy, config: TopicConfig | undefined): RetentionPolicy {
  const pick = (value: number | undefined, fallback: number | null) => (value === undefined ? fallback : value < 0 ? null : value);
  return { retentionMs: pick(config?.['retention.ms'], defaults.retentionMs), retentionBytes: pick(config?.['retention.bytes'], defaults.retentionBytes) };
}

/** In-sync replicas a produce to the topic needs: its override, else the broker's --min-insync. */
export function minInsyncReplicas(defaultMin: number, config: TopicConfig | undefined): number {
  return config?.['min.insync.replicas'] ?? defaultMin;
}

/** Whether retention applies to the topic (cleanup.policy includes delete). */
export function deletes(config: TopicConfig | undefined): boolean {
  return (config?.['cleanup.policy'] ?? 'delete') !== 'compact';
}

/** Whether log compaction applies to the topic (cleanup.policy includes compact). */
export function compacts(config: TopicConfig | undefined): boolean {
  return (config?.['cleanup.policy'] ?? 'delete').startsWith('compact');
}

/** The effective config as Kafka's names show it (-1 = unlimited). */
export function effectiveConfig(defaults: TopicDefaults, config: TopicConfig | undefined): Required<TopicConfig> {
  const p = retentionPolicy(defaults, config);
  return {
    'retention.ms': p.retentionMs ?? -1,
    'retention.bytes': p.retentionBytes ?? -1,
    'compression.type': config?.['compression.type'] ?? 'producer',
    'min.insync.replicas': minInsyncReplicas(defaults.minInsync, config),
    'cleanup.policy': config?.['cleanup.policy'] ?? 'delete',
    'delete.retention.ms': config?.['delete.retention.ms'] ?? DEFAULT_DELETE_RETENTION_MS,
  };
}
