import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ForgedAnswerError, checkAnswer, signAnswer, splitAnswer } from '../../../broker-runtime/src/replication/answer-auth.js';
import { frameMac, newFrameKey, signFrame } from '../../../broker-runtime/src/replication/frame-auth.js';
import { decodeAnswer, encodeFrame, type ReplicateHeader } from '../../../broker-runtime/src/replication/wire.js';
import { Cluster } from './replication-harness.js';

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

describe('answer-auth: a follower signs only when the frame asks (an older leader reads plain JSON)', () => {
  test('a frame without answerAuth (an older leader) gets the plain JSON answer; with it, a signed one that checks', async () => {
    const c = new Cluster();
    const b2 = c.add('b2');
    const epochKey = Buffer.from(newFrameKey(), 'hex');
    c.frameKeys.set(1, epochKey);
    const header: ReplicateHeader = { epoch: 1, leader: { id: 'b1', url: 'sim://b1' }, metaVersion: '', parts: [] };
    const old = encodeFrame(header, []);
    const plain = await b2.follower.handle(old, signFrame(1, epochKey, old));
    assert.equal(splitAnswer(plain).mac, null);
    assert.equal(decodeAnswer(plain).ok, true, 'parses as JSON, as an older leader reads it');

    const asking = encodeFrame({ ...header, answerAuth: { seq: 1, follower: 'b2' } }, []);
    const signed = await b2.follower.handle(asking, signFrame(1, epochKey, asking));
    const mac = Buffer.from(frameMac(epochKey, asking), 'base64url');
    assert.equal(checkAnswer(signed, epochKey, 1, mac, true).signed, true);
    const otherFrame = Buffer.from(frameMac(epochKey, old), 'base64url');
    assert.throws(() => checkAnswer(signed, epochKey, 1, otherFrame, true), forged, 'not good for another frame');
  });
});
