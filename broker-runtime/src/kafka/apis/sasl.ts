import type { Principal } from '../../auth/principal.js';
import type { KafkaAuth } from '../backend.js';
import { KAFKA_ERRORS } from '../protocol/error-codes.js';
import type { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';

/** SaslHandshake v1 (only PLAIN) and SaslAuthenticate 0–1 with the auth file's principals. */
export function decodeSaslHandshake(r: Reader): string {
  return r.string();
}

export function encodeSaslHandshake(mechanism: string): { ok: boolean; body: Writer } {
  const ok = mechanism === 'PLAIN';
  const w = new Writer(32).int16(ok ? KAFKA_ERRORS.NONE : KAFKA_ERRORS.UNSUPPORTED_SASL_MECHANISM);
  w.array(['PLAIN'], (w, m) => w.string(m));
  return { ok, body: w };
}

export function decodeSaslAuthenticate(r: Reader): Buffer {
  return r.bytes();
}

/**
 * PLAIN (RFC 4616): `[authzid] NUL authcid NUL passwd`. The principal name is authcid, the secret
 * passwd — the same pair as a REST token `name:secret`. An authzid other than authcid is refused.
 */
export async function authenticatePlain(token: Buffer, auth: KafkaAuth): Promise<{ principal: Principal | null; message: string | null }> {
  const parts = token.toString('utf8').split('\0');
  let principal: Principal | null = null;
  let message: string | null = null;
  if (parts.length !== 3 || (parts[0] !== '' && parts[0] !== parts[1])) message = 'malformed SASL/PLAIN token';
  else {
    try {
      principal = await auth.authenticate(parts[1]!, parts[2]!);
    } catch {
      message = 'authentication failed: no principal with that name and secret';
    }
  }
  return { principal, message };
}

export function encodeSaslAuthenticate(version: number, message: string | null): Writer {
  const w = new Writer(64);
  w.int16(message === null ? KAFKA_ERRORS.NONE : KAFKA_ERRORS.SASL_AUTHENTICATION_FAILED);
  w.nullableString(message);
  w.nullableBytes(Buffer.alloc(0));
  if (version >= 1) w.int64(0); // session_lifetime_ms: no re-authentication required
  return w;
}
