import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isStorableEpoch } from '../election/epoch-range.js';

/**
 * Proof that a replication frame comes from the holder of the current lease.
 *
 * Each leadership draws a fresh random key when it takes the lease; the same Lua script that
 * hands out the epoch stores the key beside it in Redis (`{<cluster>}:frame-keys`, field = epoch).
 * The leader signs every frame with HMAC-SHA256(key, frame bytes) and sends
 * `x-yak-frame-auth: <epoch>.<mac>`. A follower fetches the key for that epoch from Redis (once;
 * it is cached) and obeys the frame only if the MAC matches and the frame's own epoch is the one
 * signed for. Whoever can only reach a broker's HTTP port cannot read Redis and so cannot forge a
 * frame: the trust boundary is "who can reach Redis".
 */
export const FRAME_AUTH_HEADER = 'x-yak-frame-auth';

export const FRAME_KEY_BYTES = 32;

export function newFrameKey(): string {
  return randomBytes(FRAME_KEY_BYTES).toString('hex');
}

export function frameMac(key: Buffer, frame: Buffer): string {
  return createHmac('sha256', key).update(frame).digest('base64url');
}

/** The header value for `frame`, signed for `epoch` with `key`. */
export function signFrame(epoch: number, key: Buffer, frame: Buffer): string {
  return `${epoch}.${frameMac(key, frame)}`;
}

/** The parts of an `x-yak-frame-auth` value, or null when it is not one. */
export function parseFrameAuth(value: string | string[] | undefined): { epoch: number; mac: Buffer } | null {
  if (typeof value !== 'string' || value.length > 128) return null;
  const m = /^([1-9][0-9]{0,9})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m) return null;
  const epoch = Number(m[1]);
  if (!isStorableEpoch(epoch)) return null;
  return { epoch, mac: Buffer.from(m[2]!, 'base64url') };
}

export function macMatches(key: Buffer, frame: Buffer, mac: Buffer): boolean {
  const expected = createHmac('sha256', key).update(frame).digest();
  return expected.length === mac.length && timingSafeEqual(expected, mac);
}

/** Decodes a key as stored in Redis; null when it is not one this version wrote. */
export function decodeFrameKey(stored: string | null): Buffer | null {
  if (stored === null || !/^[0-9a-f]{64}$/.test(stored)) return null;
  return Buffer.from(stored, 'hex');
}
