import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { YakError, invalidJson, invalidRequest } from '../errors/errors.js';

/** Room for the JSON around records (field names, quotes, a batch's array) on top of maxMessageBytes. */
export const FRAMING_ALLOWANCE_BYTES = 64 * 1024;

/**
 * After a 413 the rest of an oversized body is read and thrown away, so the client (still sending)
 * can read the answer and the connection stays usable. Past this many discarded bytes the sender
 * is not listening and the socket is cut instead.
 */
export const MAX_DISCARD_BYTES = 16 * 1024 * 1024;

export const bodyTooLarge = (size: number, limit: number, declared: boolean) =>
  YakError.of(
    'MESSAGE_TOO_LARGE',
    declared
      ? `request body of ${size} bytes is over the limit of ${limit} bytes`
      : `request body is over the limit of ${limit} bytes (read ${size} bytes so far)`,
  );

/**
 * The whole request body, up to `limit` bytes. Over the limit (by Content-Length up front, or while
 * streaming) it rejects with 413 at once, keeps nothing of what was read and discards the rest.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = req.headers['content-length'];
    if (declared !== undefined) {
      const size = Number(declared);
      if (size > limit) {
        refuseAfterDiscard(req, reject, bodyTooLarge(size, limit, true));
        return;
      }
    }
    let chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        chunks = [];
        refuseAfterDiscard(req, reject, bodyTooLarge(size, limit, false));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onGone = () => {
      cleanup();
      reject(invalidRequest('the client went away before sending the whole body'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('close', onGone);
  });
}

/**
 * The body parsed as JSON; an empty or unparsable body is INVALID_JSON. So is a body that is not
 * UTF-8 (RFC 8259 §8.1): decoding it would replace the bad bytes with U+FFFD and store a payload
 * the producer never sent.
 */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  return parseJson(await readBody(req, limit));
}

/** A body already read, parsed as readJson does. */
export function parseJson(body: Buffer): unknown {
  if (body.length === 0) throw invalidJson('the request body is empty; expected a JSON object');
  if (!isUtf8(body)) throw invalidJson('the request body is not valid UTF-8');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    // Most often the shell ate the quotes (curl -d "{"topic":...}"): say how to send it.
    throw invalidJson(`the request body is not valid JSON: ${err instanceof Error ? err.message : String(err)}; send one JSON object (with curl: -d '{"topic":"orders","payload":1}', in single quotes so the shell keeps the double ones)`);
  }
}

/**
 * Refuse with `error` and discard the rest of the body. On a keep-alive connection the answer goes
 * out at once (the server goes on reading the body it drops). On a connection the client asked to
 * close, node closes it right after the answer, while the client may still be sending: the unread
 * bytes reset the connection and the client sees EPIPE instead of the 413 (the HTTP fuzz test found
 * it). There the answer waits until the rest of the body is read.
 */
function refuseAfterDiscard(req: IncomingMessage, reject: (err: unknown) => void, error: YakError): void {
  const discarded = discardRest(req);
  const declared = Number(req.headers['content-length'] ?? 0);
  // A body that will never be read whole (declared past the discard bound) or a sender that stalls
  // gets its answer at once / after a short wait: the wait is for clients still sending, not a hold.
  if (!closesAfterAnswer(req) || declared > MAX_DISCARD_BYTES) {
    reject(error);
    return;
  }
  const timer = setTimeout(() => reject(error), MAX_DISCARD_WAIT_MS);
  void discarded.then(() => {
    clearTimeout(timer);
    reject(error);
  });
}

/** How long a refusal waits for the rest of a body on a connection that closes after the answer. */
const MAX_DISCARD_WAIT_MS = 2_000;

/** Whether the client asked for the connection to close after this exchange (HTTP/1.0 by default). */
function closesAfterAnswer(req: IncomingMessage): boolean {
  const connection = req.headers.connection?.toLowerCase() ?? '';
  return req.httpVersion === '1.0' ? !connection.includes('keep-alive') : connection.includes('close');
}

/**
 * Read and drop whatever is left of the body, without buffering; cut the connection past
 * MAX_DISCARD_BYTES. Resolves once the body has ended or the connection is gone.
 */
function discardRest(req: IncomingMessage): Promise<void> {
  if (req.complete) return Promise.resolve();
  return new Promise((resolve) => {
    let dropped = 0;
    const onData = (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > MAX_DISCARD_BYTES) {
        req.off('data', onData);
        req.socket.destroy();
        resolve();
      }
    };
    req.on('data', onData);
    req.once('end', () => resolve());
    req.once('close', () => resolve());
    req.resume();
  });
}
