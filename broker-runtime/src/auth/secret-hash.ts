import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Secrets are never stored, only scrypt hashes of them, one salt per principal:
 * `scrypt$N$r$p$<salt, base64>$<key, base64>` (the cost parameters travel with the hash, so
 * they can be raised later without invalidating the hashes already in a file).
 */

export interface SecretHash {
  /** CPU/memory cost, a power of two. */
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

/** ~50 ms and 16 MiB per hash on a laptop: slow for a guesser, and paid once per token (gate.ts caches). */
export const SCRYPT_DEFAULTS = { N: 16_384, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
const MIN_BYTES = 16;
/** Refuse parameters that would make one verification take more memory than this. */
const MAX_MEMORY_BYTES = 256 * 1024 * 1024;
const PREFIX = 'scrypt';
const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

export async function hashSecret(secret: string, params: { N: number; r: number; p: number } = SCRYPT_DEFAULTS): Promise<string> {
  if (secret.length === 0) throw new Error('the secret is empty');
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(secret, { ...params, salt, key: Buffer.alloc(KEY_BYTES) });
  return [PREFIX, params.N, params.r, params.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** The stored form parsed and checked; throws an Error saying what is wrong with it. */
export function parseSecretHash(text: string): SecretHash {
  const parts = text.split('$');
  if (parts.length !== 6 || parts[0] !== PREFIX) {
    throw new Error("is not a secret hash: expected 'scrypt$N$r$p$salt$key' as `yak-broker hash-secret` prints it");
  }
  const [, n, r, p, salt, key] = parts as [string, string, string, string, string, string];
  const N = Number(n);
  const R = Number(r);
  const P = Number(p);
  if (!Number.isSafeInteger(N) || N < 2 || (N & (N - 1)) !== 0 || N > 2 ** 24) throw new Error(`has N=${n}: expected a power of two up to 2^24`);
  if (!Number.isSafeInteger(R) || R < 1 || R > 64) throw new Error(`has r=${r}: expected 1 to 64`);
  if (!Number.isSafeInteger(P) || P < 1 || P > 16) throw new Error(`has p=${p}: expected 1 to 16`);
  if (memoryBytes(N, R) > MAX_MEMORY_BYTES) throw new Error(`needs ${memoryBytes(N, R)} bytes of memory per check (128·N·r); at most ${MAX_MEMORY_BYTES}`);
  if (!B64.test(salt) || !B64.test(key)) throw new Error('has a salt or key that is not base64');
  const hash = { N, r: R, p: P, salt: Buffer.from(salt, 'base64'), key: Buffer.from(key, 'base64') };
  if (hash.salt.length < MIN_BYTES || hash.key.length < MIN_BYTES) throw new Error(`has a salt or key shorter than ${MIN_BYTES} bytes`);
  return hash;
}

/** True when `secret` hashes to `hash.key`; compared in constant time. */
export async function verifySecret(secret: string, hash: SecretHash): Promise<boolean> {
  const key = await derive(secret, hash);
  return timingSafeEqual(key, hash.key);
}

/** A hash no secret matches (random key), checked for unknown principals so they take as long as known ones. */
export function unmatchableHash(): SecretHash {
  return { ...SCRYPT_DEFAULTS, salt: randomBytes(SALT_BYTES), key: randomBytes(KEY_BYTES) };
}

function derive(secret: string, hash: SecretHash): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const options = { N: hash.N, r: hash.r, p: hash.p, maxmem: memoryBytes(hash.N, hash.r) + 1024 * 1024 };
    scrypt(secret.normalize('NFC'), hash.salt, hash.key.length, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function memoryBytes(N: number, r: number): number {
  return 128 * N * r;
}
