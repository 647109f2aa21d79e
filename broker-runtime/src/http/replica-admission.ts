import type { IncomingMessage } from 'node:http';
import { invalidRequest, throttled, unauthenticated } from '../errors/errors.js';
import { FRAME_AUTH_HEADER, parseFrameAuth } from '../replication/frame-auth.js';
import { FRAME_SENDER_HEADER } from '../replication/sender-proof.js';
import { bodyTooLarge } from './body.js';
import type { HttpContext } from './context.js';

/**
 * POST /replica/append bodies read at once whose sender has not proven itself. A frame's MAC covers
 * its body, so a body must be read whole (up to the replication body limit, 16 MiB by default)
 * before it can be refused: without a bound, many clients trickling such bodies would hold that much
 * memory each. Past this many, a POST is answered 429 THROTTLED (Retry-After) before its body is
 * read; a body holds its place until its frame is answered (authenticated or refused) or its client
 * goes. The same bound as the stream's MAX_UNPROVEN_STREAMS.
 */
export const MAX_UNPROVEN_POSTS = 8;

/**
 * Bodies read at once whose sender proved it holds the frame key (x-yak-frame-sender): the genuine
 * leader posts one frame at a time per follower, so it never meets this bound; it is there so the
 * memory held stays bounded even for a replayed proof (each is good once anyway).
 */
export const MAX_PROVEN_POSTS = 8;

/** What a throttled poster is told to wait: the leader retries sooner (its own back-off, at most 250 ms). */
const RETRY_AFTER_MS = 1000;

/** Releases the place a POSTed frame holds: call once its answer is decided or its client is gone. */
export type Release = () => void;

export interface ReplicaAdmission {
  /**
   * Admit a POST /replica/append before its body is read, or throw the refusal: 400 without a
   * Content-Length, 413 over the limit, 401 for a frame that can never authenticate, 429 past the
   * bound on unauthenticated bodies. Each refusal is answered at once; the caller then closes the
   * connection instead of reading the unwanted body.
   */
  admit(req: IncomingMessage): Promise<Release>;
  /** Bodies being read now, by whether their sender proved itself (tests, /metrics). */
  reading(): { unproven: number; proven: number };
}

export function createReplicaAdmission(ctx: Omit<HttpContext, 'replicaAdmission'>, onThrottled: () => void = () => {}): ReplicaAdmission {
  let unproven = 0;
  let proven = 0;
  let throttledCount = 0;
  return {
    async admit(req) {
      const length = declaredLength(req, ctx.replicaBodyLimit);
      const auth = req.headers[FRAME_AUTH_HEADER];
      const sender = req.headers[FRAME_SENDER_HEADER];
      // Past --max-connections (connection-limit.ts) this POST is its connection's first request:
      // the connection is kept only if the sender proves the frame key, closed unanswered otherwise.
      const probation = ctx.connections?.onProbation(req.socket) ? ctx.connections : undefined;
      let senderProven: boolean;
      try {
        senderProven = ctx.service.admitFrame ? await ctx.service.admitFrame(auth, sender, length) : checkAuthForm(auth);
      } catch (err) {
        probation?.refuse(req.socket);
        throw err;
      }
      if (probation) {
        if (!senderProven) {
          probation.refuse(req.socket);
          throw unauthenticated(`past --max-connections a replication POST must prove the frame key (${FRAME_SENDER_HEADER})`);
        }
        probation.promote(req.socket);
      }
      // Counted from here on (after any await), so the check and the count cannot interleave.
      if (senderProven && proven < MAX_PROVEN_POSTS) {
        proven++;
        return once(() => proven--);
      }
      if (unproven >= MAX_UNPROVEN_POSTS) {
        onThrottled();
        if (throttledCount++ % 1000 === 0) {
          ctx.log(`POST /replica/append refused: ${MAX_UNPROVEN_POSTS} frames are being read before their signature can be checked (${throttledCount} refused so far)`);
        }
        throw throttled(`${MAX_UNPROVEN_POSTS} replication frames are being read before their signature can be checked; try again later`, RETRY_AFTER_MS);
      }
      unproven++;
      return once(() => unproven--);
    },
    reading: () => ({ unproven, proven }),
  };
}

/** POST /replica/append: the one request, with the stream's upgrade, that a connection past --max-connections may send. */
export function isReplicaAppend(req: IncomingMessage): boolean {
  return req.method === 'POST' && (req.url ?? '').split('?')[0] === '/replica/append';
}

/** The body's declared length: a frame must say it up front (no chunked body), within the limit. */
function declaredLength(req: IncomingMessage, limit: number): number {
  const declared = req.headers['content-length'];
  if (declared === undefined || req.headers['transfer-encoding'] !== undefined) {
    throw invalidRequest('a replication frame needs a Content-Length (not a chunked body)');
  }
  // node has already refused a Content-Length that is not a number (400 from the parser).
  const length = Number(declared);
  if (length > limit) throw bodyTooLarge(length, limit, true);
  return length;
}

/** Without the service's check (stub services in tests): at least the header must have a proof's form. */
function checkAuthForm(auth: string | string[] | undefined): false {
  if (!parseFrameAuth(auth)) throw unauthenticated(`a replication frame needs a valid ${FRAME_AUTH_HEADER} header; only the current leader may replicate to this broker`);
  return false;
}

function once(fn: () => void): Release {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
