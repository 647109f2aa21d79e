import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hashSecret, parseSecretHash, verifySecret } from '../../../broker-runtime/src/auth/secret-hash.js';

describe('secret hashes', () => {
  test('a hash verifies its own secret and no other, and two hashes of one secret differ (per-principal salt)', async () => {
    const a = await hashSecret('s3cret');
    const b = await hashSecret('s3cret');
    assert.notEqual(a, b);
    assert.match(a, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    assert.equal(await verifySecret('s3cret', parseSecretHash(a)), true);
    assert.equal(await verifySecret('s3cret', parseSecretHash(b)), true);
    assert.equal(await verifySecret('s3cret ', parseSecretHash(a)), false);
    assert.equal(await verifySecret('', parseSecretHash(a)), false);
  });

  test('the cost parameters travel with the hash', async () => {
    const cheap = await hashSecret('pw', { N: 1024, r: 8, p: 1 });
    const parsed = parseSecretHash(cheap);
    assert.deepEqual([parsed.N, parsed.r, parsed.p, parsed.salt.length, parsed.key.length], [1024, 8, 1, 16, 32]);
    assert.equal(await verifySecret('pw', parsed), true);
  });

  test('a malformed stored hash is refused with a reason', () => {
    const salt = Buffer.alloc(16, 1).toString('base64');
    const key = Buffer.alloc(32, 2).toString('base64');
    const cases: [string, RegExp][] = [
      ['plain-text-secret', /not a secret hash/],
      [`bcrypt$1024$8$1$${salt}$${key}`, /not a secret hash/],
      [`scrypt$1000$8$1$${salt}$${key}`, /power of two/],
      [`scrypt$1024$0$1$${salt}$${key}`, /r=0/],
      [`scrypt$1024$8$99$${salt}$${key}`, /p=99/],
      [`scrypt$16777216$64$1$${salt}$${key}`, /memory/],
      [`scrypt$1024$8$1$not*b64$${key}`, /base64/],
      [`scrypt$1024$8$1$${Buffer.alloc(4).toString('base64')}$${key}`, /shorter than 16/],
    ];
    for (const [text, why] of cases) assert.throws(() => parseSecretHash(text), why, text);
  });

  test('an empty secret cannot be hashed', async () => {
    await assert.rejects(hashSecret(''), /empty/);
  });
});
