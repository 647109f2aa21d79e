import { isUtf8 } from 'node:buffer';
import type { ProduceRecord } from '../broker/service.js';
import { BASE64_KEY_HEADER } from '../log/compaction.js';
import { isJsonBytes } from './json-bytes.js';
import type { StoredRecord } from '../log/types.js';
import type { KafkaHeader, KafkaRecord, OutgoingRecord } from './protocol/record-batch.js';

/**
 * One log for both worlds: Kafka records are stored through the broker's own append path as YAK
 * records (key string, headers string→string, payload JSON text), with reserved `yak.*` headers
 * marking what JSON cannot say by itself. Kafka consumers get the original bytes back; REST
 * consumers see JSON. The mapping (also in the README, "Kafka clients"):
 *
 * value (payload)
 *   - JSON text in UTF-8: stored as it is, byte for byte, no marker (a REST consumer sees the JSON).
 *   - other UTF-8 text: stored as a JSON string, header `yak.value: text`.
 *   - not UTF-8: stored as a JSON string of its base64, header `yak.value: base64`.
 *   - null (a tombstone): stored as JSON null, header `yak.value: null`.
 *   A REST record (no marker) reaches Kafka consumers as its UTF-8 JSON text.
 * key
 *   - UTF-8 (or null): stored as it is. Otherwise base64, header `yak.key: base64`.
 * headers
 *   - unique names, UTF-8 names and values, no null value, no name starting `yak.` and none that a
 *     JSON object would reorder (`0`, `17`) or treat specially (`__proto__`): stored as the
 *     header object itself.
 *   - anything else: one header `yak.headers` holding the JSON list `[[name, base64 value | null], …]`
 *     (names as UTF-8, or `base64:`-prefixed base64 when they are not), order and duplicates kept.
 * Markers are stripped before a Kafka consumer sees the record.
 */

export const VALUE_MARKER = 'yak.value';
export const KEY_MARKER = BASE64_KEY_HEADER; // 'yak.key': compaction tells base64-stored keys apart by it
export const HEADERS_MARKER = 'yak.headers';
export const RESERVED_PREFIX = 'yak.';
const ARRAY_INDEX = /^(0|[1-9]\d*)$/;

export function toProduceRecord(r: KafkaRecord, partition: number): ProduceRecord {
  const headers = storedHeaders(r.headers);
  let payload: string;
  let payloadBytes: Buffer | undefined;
  if (r.value === null) {
    payload = 'null';
    headers[VALUE_MARKER] = 'null';
  } else if (isUtf8(r.value)) {
    const text = r.value.toString('utf8');
    if (isJsonBytes(r.value)) {
      payload = text;
      payloadBytes = r.value;
    } else {
      payload = JSON.stringify(text);
      headers[VALUE_MARKER] = 'text';
    }
  } else {
    payload = JSON.stringify(r.value.toString('base64'));
    headers[VALUE_MARKER] = 'base64';
  }
  let key: string | null = null;
  if (r.key !== null) {
    if (isUtf8(r.key)) key = r.key.toString('utf8');
    else {
      key = r.key.toString('base64');
      headers[KEY_MARKER] = 'base64';
    }
  }
  return { key, payload, headers, partition, timestamp: r.timestamp, payloadBytes };
}

function storedHeaders(list: readonly KafkaHeader[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (list.length === 0) return out;
  const seen = new Set<string>();
  let plain = true;
  for (const h of list) {
    if (h.value === null || !isUtf8(h.key) || !isUtf8(h.value)) {
      plain = false;
      break;
    }
    const name = h.key.toString('utf8');
    if (seen.has(name) || name.startsWith(RESERVED_PREFIX) || name === '__proto__' || ARRAY_INDEX.test(name)) {
      plain = false;
      break;
    }
    seen.add(name);
  }
  if (plain) {
    for (const h of list) out[h.key.toString('utf8')] = h.value!.toString('utf8');
    return out;
  }
  const encoded = list.map((h) => [plainName(h.key) ?? `base64:${h.key.toString('base64')}`, h.value === null ? null : h.value.toString('base64')]);
  out[HEADERS_MARKER] = JSON.stringify(encoded);
  return out;
}

/** A header name kept as text in the `yak.headers` list: UTF-8 and not itself looking base64-prefixed. */
function plainName(key: Buffer): string | null {
  if (!isUtf8(key)) return null;
  const name = key.toString('utf8');
  return name.startsWith('base64:') ? null : name;
}

/** A stored record as a Kafka consumer must see it: original bytes back, markers gone. */
export function toOutgoingRecord(r: StoredRecord): OutgoingRecord {
  const h = r.headers;
  const valueMark = h[VALUE_MARKER];
  let value: Buffer | null;
  if (valueMark === 'null') value = null;
  else if (valueMark === 'text') value = Buffer.from(jsonString(r.payload), 'utf8');
  else if (valueMark === 'base64') value = Buffer.from(jsonString(r.payload), 'base64');
  else value = Buffer.from(r.payload, 'utf8');
  const key = r.key === null ? null : Buffer.from(r.key, h[KEY_MARKER] === 'base64' ? 'base64' : 'utf8');
  return { offset: r.offset, timestamp: r.timestamp, key, value, headers: kafkaHeaders(h) };
}

/** The JSON string a marked payload holds ('' when it is not one: a REST record that forged a marker). */
function jsonString(payload: string): string {
  try {
    const v: unknown = JSON.parse(payload);
    return typeof v === 'string' ? v : payload;
  } catch {
    return payload;
  }
}

function kafkaHeaders(h: Record<string, string>): KafkaHeader[] {
  const encoded = h[HEADERS_MARKER];
  if (encoded !== undefined) {
    const list = parseEncodedHeaders(encoded);
    if (list) return list;
  }
  const out: KafkaHeader[] = [];
  for (const name in h) {
    if (name.startsWith(RESERVED_PREFIX)) continue;
    out.push({ key: Buffer.from(name, 'utf8'), value: Buffer.from(h[name]!, 'utf8') });
  }
  return out;
}

function parseEncodedHeaders(text: string): KafkaHeader[] | null {
  try {
    const list: unknown = JSON.parse(text);
    if (!Array.isArray(list)) return null;
    return list.map((pair: unknown) => {
      const [name, value] = pair as [string, string | null];
      const key = name.startsWith('base64:') ? Buffer.from(name.slice(7), 'base64') : Buffer.from(name, 'utf8');
      return { key, value: typeof value === 'string' ? Buffer.from(value, 'base64') : null };
    });
  } catch {
    return null;
  }
}
