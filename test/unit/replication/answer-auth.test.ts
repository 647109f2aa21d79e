import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ForgedAnswerError, checkAnswer, signAnswer, splitAnswer } from '../../../broker-runtime/src/replication/answer-auth.js';
import { frameMac, newFrameKey } from '../../../broker-runtime/src/replication/frame-auth.js';

const key = Buffer.from(newFrameKey(), 'hex');
const frameA = Buffer.from(frameMac(key, Buffer.from('frame A')), 'base64url');
const frameB = Buffer.from(frameMac(key, Buffer.from('frame B')), 'base64url');
const answer = Buffer.from(JSON.stringify({ ok: true, metaVersion: 'v', parts: [{ topic: 't', partition: 0, status: 'ok', logEndOffset: 5 }], incarnation: 'i' }));
const forged = (err: unknown) => err instanceof ForgedAnswerError;

describe('answer-auth: a follower signs each answer for the frame it answers', () => {
  test('a signed answer checks, and gives back the JSON exactly', () => {
    const signed = signAnswer(key, 7, frameA, answer);
    assert.deepEqual(checkAnswer(signed, key, 7, frameA, false), { answer, signed: true });
    assert.deepEqual(checkAnswer(signed, key, 7, frameA, true), { answer, signed: true });
  });

  test('an altered body is refused (a larger log end claimed)', () => {
    const signed = signAnswer(key, 7, frameA, answer);
    const tampered = Buffer.from(signed.toString('latin1').replace('"logEndOffset":5', '"logEndOffset":9'), 'latin1');
    assert.equal(tampered.length, signed.length);
    assert.throws(() => checkAnswer(tampered, key, 7, frameA, false), forged);
  });

  test('an answer for another frame (replayed) is refused', () => {
    const signed = signAnswer(key, 7, frameA, answer);
    assert.throws(() => checkAnswer(signed, key, 7, frameB, true), forged);
  });

  test('an answer signed for another epoch, or with another key, is refused', () => {
    assert.throws(() => checkAnswer(signAnswer(key, 6, frameA, answer), key, 7, frameA, false), forged);
    const other = Buffer.from(newFrameKey(), 'hex');
    assert.throws(() => checkAnswer(signAnswer(other, 7, frameA, answer), key, 7, frameA, false), forged);
  });

  test('an unsigned answer is an older follower\'s until that follower signed once; then it is a stripped signature', () => {
    assert.deepEqual(checkAnswer(answer, key, 7, frameA, false), { answer, signed: false });
    assert.throws(() => checkAnswer(answer, key, 7, frameA, true), forged);
  });

  test('a mangled trailer is not read as a signature (the JSON then fails to decode, as any garbage does)', () => {
    const signed = signAnswer(key, 7, frameA, answer);
    assert.equal(splitAnswer(signed.subarray(0, signed.length - 1)).mac, null);
    assert.equal(splitAnswer(Buffer.from('{}')).mac, null);
    assert.equal(splitAnswer(signed).answer.toString(), answer.toString());
  });
});
