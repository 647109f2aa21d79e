import { YakError, invalidRequest } from '../errors/errors.js';
import type { ProduceRecord } from '../broker/service.js';
import { clip } from './errors.js';
import { applyConfigChange, checkTopicConfig, type TopicConfig } from '../log/topic-config.js';
import { SUPPORTED_CODECS, isSupportedCodec, type SupportedCodec } from '../log/compression/codecs.js';
import { PRODUCER_MARKER } from '../kafka/idempotence/producer-marker.js';

/**
 * Request shapes, checked completely before the service is asked anything. Every failure is
 * INVALID_REQUEST naming the field, except an oversized record (413 MESSAGE_TOO_LARGE).
 */

export const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
export const MAX_BATCH_RECORDS = 10_000;
export const MAX_TOPIC_PARTITIONS = 1000;
export const CONSUME_MAX = { min: 1, max: 10_000, fallback: 500 } as const;
export const CONSUME_WAIT_MS = { min: 0, max: 30_000, fallback: 0 } as const;

type JsonObject = Record<string, unknown>;

/** A UTF-16 surrogate not part of a pair (with the u flag a pair is one code point, not a surrogate). */
const LONE_SURROGATE = /\p{Cs}/u;

export interface ProduceRequest {
  topic: string;
  records: ProduceRecord[];
  /** The producer's codec (used when the topic's compression.type is `producer`); absent = none. */
  compression?: SupportedCodec;
}

export interface ConsumeRequest {
  topic: string;
  partition: number;
  offset: number;
  max: number;
  waitMs: number;
}

/** POST /produce: `{topic, key?, payload, partition?, headers?, compression?}`. */
export function parseProduce(body: unknown, maxMessageBytes: number): ProduceRequest {
  const obj = asObject(body, 'the request body');
  const topic = topicName(obj['topic'], 'topic');
  return withCompression({ topic, records: [parseRecord(obj, '', maxMessageBytes)] }, obj['compression']);
}

/** The optional `compression` field of a produce request: none, gzip or lz4. */
function withCompression(request: ProduceRequest, value: unknown): ProduceRequest {
  if (value === undefined || value === null) return request;
  if (!isSupportedCodec(value)) throw invalidRequest(`compression must be one of ${SUPPORTED_CODECS.join(', ')}, got ${clip(JSON.stringify(value) ?? String(value), 40)}`);
  request.compression = value;
  return request;
}

/** POST /produce/batch: `{topic, records: [{key?, payload, partition?, headers?}, ...], compression?}`. */
export function parseBatch(body: unknown, maxMessageBytes: number): ProduceRequest {
  const obj = asObject(body, 'the request body');
  const topic = topicName(obj['topic'], 'topic');
  const list = obj['records'];
  if (!Array.isArray(list) || list.length === 0) throw invalidRequest('records is required and must be a non-empty array');
  if (list.length > MAX_BATCH_RECORDS) {
    throw invalidRequest(`records has ${list.length} entries; at most ${MAX_BATCH_RECORDS} per batch`);
  }
  const records = list.map((r: unknown, i) => parseRecord(asObject(r, `records[${i}]`), `records[${i}].`, maxMessageBytes));
  return withCompression({ topic, records }, obj['compression']);
}

/** GET /consume?topic&partition&offset[&max][&wait_ms] */
export function parseConsume(query: URLSearchParams): ConsumeRequest {
  return {
    topic: topicName(query.get('topic') ?? undefined, 'topic'),
    partition: uintParam(query, 'partition'),
    offset: uintParam(query, 'offset'),
    max: uintParam(query, 'max', CONSUME_MAX),
    waitMs: uintParam(query, 'wait_ms', CONSUME_WAIT_MS),
  };
}

/** POST /topics: `{name, partitions, config?}` (config: retention.ms, retention.bytes: integers >= -1; compression.type). */
export function parseCreateTopic(body: unknown): { name: string; partitions: number; config?: TopicConfig } {
  const obj = asObject(body, 'the request body');
  const name = topicName(obj['name'], 'name');
  const partitions = obj['partitions'];
  if (!isUint(partitions) || partitions < 1 || partitions > MAX_TOPIC_PARTITIONS) {
    throw invalidRequest(`partitions is required and must be an integer from 1 to ${MAX_TOPIC_PARTITIONS}`);
  }
  if (obj['config'] === undefined || obj['config'] === null) return { name, partitions };
  const config = checkTopicConfig(obj['config']);
  if (typeof config === 'string') throw invalidRequest(config);
  return { name, partitions, config };
}

/** POST /topics/{name}/config: `{config: {key: value | null}}`; null drops an override. Returns the change. */
export function parseConfigChange(body: unknown): Record<string, number | string | null> {
  const obj = asObject(body, 'the request body');
  for (const k of Object.keys(obj)) if (k !== 'config') throw invalidRequest(`unknown field '${clip(k, 40)}'; send {config: {...}}`);
  const change = asObject(obj['config'], 'config');
  const checked = applyConfigChange({}, change);
  if (typeof checked === 'string') throw invalidRequest(checked);
  return change as Record<string, number | string | null>;
}

export function topicName(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalidRequest(`${field} is required and must be a string`);
  // '.' and '..' pass the pattern but name directories; Kafka refuses them for the same reason.
  if (!TOPIC_NAME.test(value) || value === '.' || value === '..') {
    throw invalidRequest(`${field} '${clip(value)}' is not a valid topic name: 1-249 characters of A-Z a-z 0-9 . _ - (not '.' or '..')`);
  }
  return value;
}

function parseRecord(obj: JsonObject, at: string, maxMessageBytes: number): ProduceRecord {
  const key = obj['key'];
  if (key !== undefined && key !== null && typeof key !== 'string') throw invalidRequest(`${at}key must be a string or null`);
  // Keys are stored as UTF-8, which cannot hold a lone surrogate ("\ud800" is valid JSON): it would
  // come back as U+FFFD, a different key than the one acknowledged (and partitioned by).
  if (typeof key === 'string' && LONE_SURROGATE.test(key)) throw invalidRequest(`${at}key is not well-formed Unicode (it has a lone surrogate)`);
  if (!('payload' in obj)) throw invalidRequest(`${at}payload is required (any JSON value, null included)`);
  const payload = payloadText(obj['payload'], at);
  const headers = parseHeaders(obj['headers'], at);
  const record: ProduceRecord = { key: key ?? null, payload, headers };
  const partition = obj['partition'];
  if (partition !== undefined && partition !== null) {
    if (!isUint(partition)) throw invalidRequest(`${at}partition must be a non-negative integer`);
    record.partition = partition;
  }
  const size = surelyWithin(record, maxMessageBytes) ? 0 : recordBytes(record);
  if (size > maxMessageBytes) {
    throw YakError.of(
      'MESSAGE_TOO_LARGE',
      `${at ? `record ${at.slice(0, -1)}` : 'the record'} is ${size} bytes (payload + key + headers), over the limit of ${maxMessageBytes} bytes`,
    );
  }
  return record;
}

/**
 * The payload as stored JSON text. JSON.parse reads any depth, but JSON.stringify recurses once per
 * level, so a payload nested deeper than the stack allows (100k nested arrays fit in one body)
 * throws RangeError: that is the client's input, refused with 400, not an internal error.
 */
function payloadText(value: unknown, at: string): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    if (err instanceof RangeError) throw invalidRequest(`${at}payload is nested too deeply`);
    throw err;
  }
}

function parseHeaders(value: unknown, at: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  const headers = asObject(value, `${at}headers`);
  for (const name in headers) {
    if (typeof headers[name] !== 'string') throw invalidRequest(`${at}headers['${clip(name)}'] must be a string`);
    // The idempotent producers' record of their batches: a forged one could make a new leader drop a real batch as a duplicate.
    if (name === PRODUCER_MARKER) throw invalidRequest(`${at}headers['${PRODUCER_MARKER}'] is reserved for the Kafka listener's idempotent producers`);
  }
  // JSON.parse gives a plain object with own properties only, so it can be handed on as it is.
  return headers as Record<string, string>;
}

/** What a record costs against maxMessageBytes: payload text + key + headers as stored. */
/**
 * True when the record cannot be over the limit whatever its characters: UTF-8 needs at most 3 bytes
 * per UTF-16 code unit. Counting the bytes exactly (Buffer.byteLength) was 2% of a leader's time in
 * the batch benchmark, for records far below the limit; records with headers are always counted.
 */
function surelyWithin(record: ProduceRecord, maxMessageBytes: number): boolean {
  for (const _ in record.headers) return false;
  return 3 * (record.payload.length + (record.key?.length ?? 0)) <= maxMessageBytes;
}

function recordBytes(record: ProduceRecord): number {
  let size = Buffer.byteLength(record.payload);
  if (record.key !== null) size += Buffer.byteLength(record.key);
  // Headers are stored as JSON text, or as nothing when there are none.
  if (Object.keys(record.headers).length > 0) size += Buffer.byteLength(JSON.stringify(record.headers));
  return size;
}

const DIGITS = /^\d{1,16}$/;

function uintParam(query: URLSearchParams, name: string, range?: { min: number; max: number; fallback: number }): number {
  const raw = query.get(name);
  if (raw === null || raw === '') {
    if (range) return range.fallback;
    throw invalidRequest(`${name} is required (a non-negative integer)`);
  }
  const value = DIGITS.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value)) throw invalidRequest(`${name} must be a non-negative integer; got '${clip(raw, 40)}'`);
  if (range && (value < range.min || value > range.max)) {
    throw invalidRequest(`${name} must be from ${range.min} to ${range.max}; got ${value}`);
  }
  return value;
}

function isUint(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function asObject(value: unknown, what: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidRequest(`${what} must be a JSON object`);
  return value as JsonObject;
}
