import { createHmac, timingSafeEqual } from 'node:crypto';
import { isStorableEpoch } from '../election/epoch-range.js';

/**
 * Proof, readable before a POSTed frame's body, that the sender holds the frame key of an epoch.
 *
 * The frame's own signature (x-yak-frame-auth, frame-auth.ts) covers the body, so it can be checked
 * only once the whole body (up to the replication body limit, 16 MiB by default) has been read. A
 * follower therefore bounds how many unauthenticated bodies it reads at once (http/replica-admission.ts);
 * this header lets the genuine leader skip that queue, so an attacker who fills it cannot starve
 * the leader's POST fallback. It signs, with the same key, `epoch`, a sequence number that only
 * grows within a leader process, and the body's length:
 *
 *   x-yak-frame-sender: <epoch>.<seq>.<base64url HMAC-SHA256(key, "yak-frame-sender/1 <epoch> <seq> <length>")>
 *
 * A follower accepts each proof once, and only with a sequence number above the last it accepted
 * for the epoch (SenderSeqs), so a proof seen on the wire cannot be replayed to skip the queue
 * again. The proof admits a body; it authorizes nothing: every frame is still obeyed only if its
 * own MAC matches.
 */
export const FRAME_SENDER_HEADER = 'x-yak-frame-sender';

let lastSeq = 0;

/**
 * Strictly increasing within this process; starts from the clock in µs, so a leader process that
 * signed for an epoch before (it cannot, each lease draws a new epoch, but cheaply made sure) goes on above.
 */
export function nextSenderSeq(): number {
  lastSeq = Math.max(lastSeq + 1, Date.now() * 1000);
  return lastSeq;
}

function senderMac(key: Buffer, epoch: number, seq: number, length: number): Buffer {
  return createHmac('sha256', key).update(`yak-frame-sender/1 ${epoch} ${seq} ${length}`).digest();
}

/** The header value proving that whoever posts `length` bytes for `epoch` holds `key`. */
export function signSender(epoch: number, key: Buffer, length: number, seq = nextSenderSeq()): string {
  return `${epoch}.${seq}.${senderMac(key, epoch, seq, length).toString('base64url')}`;
}

/** The parts of an x-yak-frame-sender value, or null when it is not one. */
export function parseSenderProof(value: string | string[] | undefined): { epoch: number; seq: number; mac: Buffer } | null {
  if (typeof value !== 'string' || value.length > 128) return null;
  const m = /^([1-9][0-9]{0,9})\.([1-9][0-9]{0,15})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m) return null;
  const epoch = Number(m[1]);
  const seq = Number(m[2]);
  if (!isStorableEpoch(epoch) || !Number.isSafeInteger(seq)) return null;
  return { epoch, seq, mac: Buffer.from(m[3]!, 'base64url') };
}

/**
 * The highest sequence number accepted per epoch, for the newest few epochs: a proof is good once,
 * and only above the last one (the leader posts one frame at a time per follower, so its proofs
 * arrive in order; one that does not just waits in the unproven queue).
 */
export class SenderSeqs {
  private readonly last = new Map<number, number>();

  constructor(private readonly keep = 4) {}

  /** Takes `seq` for `epoch` if it is above every one taken before; false otherwise. */
  take(epoch: number, seq: number): boolean {
    const last = this.last.get(epoch);
    if (last !== undefined && seq <= last) return false;
    if (last === undefined && this.last.size >= this.keep) {
      const oldest = Math.min(...this.last.keys());
      if (epoch < oldest) return false;
      this.last.delete(oldest);
    }
    this.last.set(epoch, seq);
    return true;
  }
}

/**
 * Whether `header` proves that the sender of a `length`-byte frame for `epoch` holds `key`, with a
 * sequence number not used before (it is then used up).
 */
export function senderProven(header: string | string[] | undefined, epoch: number, key: Buffer, length: number, seqs: SenderSeqs): boolean {
  const proof = parseSenderProof(header);
  if (!proof || proof.epoch !== epoch) return false;
  const expected = senderMac(key, epoch, proof.seq, length);
  if (expected.length !== proof.mac.length || !timingSafeEqual(expected, proof.mac)) return false;
  return seqs.take(epoch, proof.seq);
}
