import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { MAX_LEADER_EPOCH, isStorableEpoch, storableOrZero } from '../../../broker-runtime/src/election/epoch-range.js';
import { decodeFrameKey, macMatches, newFrameKey, parseFrameAuth, signFrame } from '../../../broker-runtime/src/replication/frame-auth.js';
import { FrameKeyCache } from '../../../broker-runtime/src/replication/frame-key-cache.js';

describe('frame authentication', () => {
  const key = decodeFrameKey(newFrameKey())!;
  const frame = Buffer.from('any bytes of a frame');

  test('a frame signed with the leadership key verifies; any other key, frame or epoch claim does not', () => {
    const claim = parseFrameAuth(signFrame(7, key, frame))!;
    assert.equal(claim.epoch, 7);
    assert.ok(macMatches(key, frame, claim.mac));
    assert.ok(!macMatches(randomBytes(32), frame, claim.mac));
    assert.ok(!macMatches(key, Buffer.from('any bytes of a framE'), claim.mac));
  });

  test('malformed proofs are not proofs: missing, several, bad epoch, short or long mac', () => {
    const mac = signFrame(7, key, frame).split('.')[1]!;
    for (const bad of [undefined, [`7.${mac}`, `7.${mac}`], '', `0.${mac}`, `-1.${mac}`, `07.${mac}`, `${2 ** 32}.${mac}`, `7.${mac}x`, `7.${mac.slice(1)}`, `7 .${mac}`, `7.${mac}\n`]) {
      assert.equal(parseFrameAuth(bad as string | string[] | undefined), null, JSON.stringify(bad));
    }
  });

  test('only keys this version writes decode', () => {
    assert.equal(decodeFrameKey(null), null);
    assert.equal(decodeFrameKey('zz'), null);
    assert.equal(decodeFrameKey('A'.repeat(64)), null);
    assert.equal(decodeFrameKey(newFrameKey())!.length, 32);
  });
});

describe('storable epochs', () => {
  test('1..2^32-1 are storable; 0, negatives, fractions, 2^32 and non-numbers are not', () => {
    for (const ok of [1, 2, MAX_LEADER_EPOCH]) assert.ok(isStorableEpoch(ok), String(ok));
    for (const bad of [0, -1, 1.5, 2 ** 32, 2 ** 53 + 2, Number.NaN, Infinity, '5', null]) assert.ok(!isStorableEpoch(bad), String(bad));
    assert.equal(storableOrZero(2 ** 32 + 1), 0);
    assert.equal(storableOrZero(9), 9);
  });
});

describe('frame key cache', () => {
  test('a known key is fetched once; concurrent lookups share one round trip', async () => {
    let fetches = 0;
    const cache = new FrameKeyCache(async () => (fetches++, Buffer.alloc(32, 1)), () => 0);
    await Promise.all([cache.get(3), cache.get(3), cache.get(3)]);
    await cache.get(3);
    assert.equal(fetches, 1);
  });

  test('a miss is remembered briefly, so a flood of forged epochs costs one lookup per epoch per window', async () => {
    let t = 0;
    let fetches = 0;
    const cache = new FrameKeyCache(async () => (fetches++, null), () => t, 250);
    for (let i = 0; i < 100; i++) assert.equal(await cache.get(99), null);
    assert.equal(fetches, 1);
    t = 300;
    await cache.get(99);
    assert.equal(fetches, 2);
  });

  test('an unreachable Redis is a miss (refuse), not an error', async () => {
    const cache = new FrameKeyCache(async () => {
      throw new Error('redis down');
    }, () => 0);
    assert.equal(await cache.get(1), null);
  });

  test('only the newest epochs are kept', async () => {
    const fetched: number[] = [];
    const cache = new FrameKeyCache(async (e) => (fetched.push(e), Buffer.alloc(32, e)), () => 0, 250, 2);
    for (const e of [1, 2, 3]) await cache.get(e);
    await cache.get(3);
    await cache.get(1);
    assert.deepEqual(fetched, [1, 2, 3, 1]);
  });
});
