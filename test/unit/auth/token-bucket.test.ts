import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TokenBucket } from '../../../broker-runtime/src/auth/token-bucket.js';

describe('quota token bucket', () => {
  test('a request passes while the bucket is not in debt; the one that overdraws it throttles the next (as Kafka)', () => {
    const b = new TokenBucket(1000, 0);
    assert.equal(b.waitMs(0), 0);
    b.charge(600, 0);
    assert.equal(b.waitMs(0), 0, '400 bytes left');
    b.charge(3400, 0);
    assert.equal(b.waitMs(0), 3000, '3000 bytes in debt at 1000 B/s');
    assert.equal(b.waitMs(1000), 2000);
    assert.equal(b.waitMs(3000), 0);
  });

  test('the refill is capped at one second of the rate (the burst)', () => {
    const b = new TokenBucket(1000, 0);
    b.charge(1500, 60_000);
    assert.equal(b.waitMs(60_000), 500, 'an hour idle saves no more than 1000 bytes');
  });

  test('a new rate keeps the debt and pays it back at the new speed', () => {
    const b = new TokenBucket(1000, 0);
    b.charge(3000, 0);
    b.setRate(2000, 0);
    assert.equal(b.waitMs(0), 1000);
  });

  test('time going backwards neither refills nor breaks the bucket', () => {
    const b = new TokenBucket(100, 1000);
    b.charge(200, 1000);
    assert.equal(b.waitMs(500), 1000);
    assert.equal(b.waitMs(2000), 0);
  });

  test('rates and charges are checked', () => {
    assert.throws(() => new TokenBucket(0, 0), RangeError);
    assert.throws(() => new TokenBucket(Number.NaN, 0), RangeError);
    assert.throws(() => new TokenBucket(10, 0).charge(-1, 0), RangeError);
  });
});
