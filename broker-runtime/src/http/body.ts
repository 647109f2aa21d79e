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
        discardRest(req);
        reject(bodyTooLarge(size, limit, true));
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
        discardRest(req);
        reject(bodyTooLarge(size, limit, false));
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
    throw invalidJson(`the request body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Read and drop whatever is left of the body, without buffering; cut the connection past MAX_DISCARD_BYTES. */
function discardRest(req: IncomingMessage): void {
  if (req.complete) return;
  let dropped = 0;
  const onData = (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > MAX_DISCARD_BYTES) {
      req.off('data', onData);
      req.socket.destroy();
    }
  };
  req.on('data', onData);
  req.resume();
}
