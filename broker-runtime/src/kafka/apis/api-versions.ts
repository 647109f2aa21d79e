import { KAFKA_ERRORS } from '../protocol/error-codes.js';
import { SASL_APIS, SUPPORTED, type VersionRange } from '../protocol/api-keys.js';
import type { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';

/** ApiVersions 0–3. v3's request carries the client's software name and version (ignored). */
export function decodeApiVersions(r: Reader, version: number): void {
  if (version >= 3) {
    r.compactString();
    r.compactString();
    r.skipTaggedFields();
  }
}

export function advertised(sasl: boolean): VersionRange[] {
  return sasl ? [...SUPPORTED, ...SASL_APIS] : [...SUPPORTED];
}

/**
 * The answer. A version above 3 gets Kafka's fallback: a v0 body with UNSUPPORTED_VERSION and the
 * list, so the client retries with a version both sides speak.
 */
export function encodeApiVersions(version: number, sasl: boolean): Writer {
  const apis = advertised(sasl);
  const w = new Writer(128);
  if (version > 3) {
    w.int16(KAFKA_ERRORS.UNSUPPORTED_VERSION);
    w.array(apis, (w, a) => w.int16(a.key).int16(a.advertisedMin ?? a.min).int16(a.max));
    return w;
  }
  w.int16(KAFKA_ERRORS.NONE);
  if (version >= 3) w.compactArray(apis, (w, a) => w.int16(a.key).int16(a.advertisedMin ?? a.min).int16(a.max).emptyTaggedFields());
  else w.array(apis, (w, a) => w.int16(a.key).int16(a.advertisedMin ?? a.min).int16(a.max));
  if (version >= 1) w.int32(0);
  if (version >= 3) w.emptyTaggedFields();
  return w;
}
