import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Proof that a follower's answer to a replication frame comes from a broker that obeyed that frame.
 *
 * Frames are signed by the leader (frame-auth.ts); without this, answers were not, so a man in the
 * middle (no TLS) could answer "ok, log end N" for a frame the follower never applied, and the
 * leader would count the follower in sync and acknowledge records only the leader holds.
 *
 * A leader that wants signed answers puts `answerAuth: { seq, follower }` in the frame header: a
 * sequence number that only grows within the leader process (nextAnswerSeq) and the id of the
 * follower it sends to. The header is covered by the frame's MAC, so the request cannot be stripped
 * and every frame's MAC is unique. A follower that understands it appends to its answer
 *
 *   "\n" <base64url HMAC-SHA256(key, "yak-answer/1 <epoch> " || frame MAC (32 bytes) || answer JSON)>
 *
 * with the key of the frame's epoch. The answer is thereby bound to the one frame it answers
 * (replaying it for another frame, another follower or another epoch fails) and cannot be changed.
 * The answer JSON never ends with a newline and 43 base64url characters, so the trailer cannot be
 * confused with an older follower's plain answer (which never has one); an older leader never asks,
 * so it never receives a trailer. One HMAC over a small answer on each side per frame.
 */
export const ANSWER_MAC_CHARS = 43;
const TRAILER_BYTES = 1 + ANSWER_MAC_CHARS;
const NEWLINE = 0x0a;

let lastSeq = 0;

/** Strictly increasing within this process (starts from the clock in µs, as sender-proof.ts's). */
export function nextAnswerSeq(): number {
  lastSeq = Math.max(lastSeq + 1, Date.now() * 1000);
  return lastSeq;
}

export function answerMac(key: Buffer, epoch: number, frameMac: Buffer, answer: Buffer): Buffer {
  return createHmac('sha256', key).update(`yak-answer/1 ${epoch} `).update(frameMac).update(answer).digest();
}

/** `answer` with its signature appended (the bytes a follower sends back). */
export function signAnswer(key: Buffer, epoch: number, frameMac: Buffer, answer: Buffer): Buffer {
  const mac = answerMac(key, epoch, frameMac, answer).toString('base64url');
  return Buffer.concat([answer, Buffer.from(`\n${mac}`, 'latin1')]);
}

/** An answer's JSON and its signature, when it carries one (null: an unsigned answer, as older followers send). */
export function splitAnswer(bytes: Buffer): { answer: Buffer; mac: Buffer | null } {
  if (bytes.length <= TRAILER_BYTES || bytes[bytes.length - TRAILER_BYTES] !== NEWLINE) return { answer: bytes, mac: null };
  const text = bytes.subarray(bytes.length - ANSWER_MAC_CHARS).toString('latin1');
  if (!/^[A-Za-z0-9_-]{43}$/.test(text)) return { answer: bytes, mac: null };
  return { answer: bytes.subarray(0, bytes.length - TRAILER_BYTES), mac: Buffer.from(text, 'base64url') };
}

/** Whether `mac` signs `answer` as the answer to the frame whose MAC is `frameMac`, for `epoch`. */
export function answerMacMatches(key: Buffer, epoch: number, frameMac: Buffer, answer: Buffer, mac: Buffer): boolean {
  const expected = answerMac(key, epoch, frameMac, answer);
  return expected.length === mac.length && timingSafeEqual(expected, mac);
}

/** A signed answer whose signature does not check, or an unsigned one from a follower that signs. */
export class ForgedAnswerError extends Error {}

/**
 * The leader's check of one answer from follower `follower` (who asked it to sign, in frame
 * `frameMac` of `epoch`). `signs` is whether this follower has signed an answer before in this
 * leadership: once it has, an unsigned answer is a forgery (the trailer was stripped), never an
 * older version. Answers the answer's JSON bytes to decode and whether it was signed; throws
 * ForgedAnswerError for an answer that must not be believed.
 */
export function checkAnswer(bytes: Buffer, key: Buffer, epoch: number, frameMac: Buffer, signs: boolean): { answer: Buffer; signed: boolean } {
  const { answer, mac } = splitAnswer(bytes);
  if (mac === null) {
    if (signs) throw new ForgedAnswerError('the answer is unsigned, but this follower signed its earlier answers in this epoch (a stripped signature)');
    return { answer, signed: false };
  }
  if (!answerMacMatches(key, epoch, frameMac, answer, mac)) {
    throw new ForgedAnswerError(`the answer's signature does not match the frame it answers (epoch ${epoch}): forged, altered, or replayed from another frame`);
  }
  return { answer, signed: true };
}
