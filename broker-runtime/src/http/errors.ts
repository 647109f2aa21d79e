import type { ServerResponse } from 'node:http';
import { YakError, fromStorageError, isYakError } from '../errors/errors.js';
import { isStorageError } from '../log/storage-error.js';

/**
 * The one place where errors become HTTP answers. A YakError answers with its own status and
 * toJSON(); anything else is a bug on our side: it is logged here and answered with a generic
 * 500 that carries no stack, no message from inside and never HTML.
 */

export type Logger = (line: string) => void;

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

const INTERNAL_BODY = JSON.stringify({ error: 'INTERNAL', message: 'internal error; the broker log has the details' });

/** The routes a newcomer reaches for first: a typo (`/topic`) or `/` in a browser gets a way on. */
const MAIN_ROUTES = 'POST /produce, GET /consume?topic&partition&offset, GET /topics, GET /metadata/cluster, GET /health, GET /metrics';

export const notFound = (method: string, path: string) =>
  YakError.of('NOT_FOUND', `no route for ${method} ${clip(path)}; the API (the README's "HTTP API") has ${MAIN_ROUTES} and more`);

export const methodNotAllowed = (method: string, path: string, allow: readonly string[]) =>
  YakError.of('METHOD_NOT_ALLOWED', `${method} is not allowed on ${clip(path)}; use ${allow.join(' or ')}`, {
    allow: [...allow],
  });

export const unsupportedMediaType = (got: string, want: string) =>
  YakError.of('UNSUPPORTED_MEDIA_TYPE', `content-type '${clip(got)}' is not accepted here; send ${want}`);

/** Status, JSON body and the headers some errors need (Allow, Retry-After, WWW-Authenticate) for any thrown value. */
export function mapError(err: unknown, log: Logger): { status: number; body: string; headers?: Record<string, string> } {
  if (isStorageError(err)) err = fromStorageError(err);
  if (isYakError(err) && Number.isInteger(err.status) && err.status >= 400 && err.status <= 599) {
    try {
      const headers = errorHeaders(err);
      return { status: err.status, body: JSON.stringify(err.toJSON()), ...(headers ? { headers } : {}) };
    } catch (serialiseErr) {
      log(`internal error: could not serialise ${err.code}: ${describe(serialiseErr)}`);
      return { status: 500, body: INTERNAL_BODY };
    }
  }
  log(`internal error: ${describe(err)}`);
  return { status: 500, body: INTERNAL_BODY };
}

/** The headers HTTP asks of some statuses: 405 names the allowed methods, 401 the scheme (RFC 6750), 429 when to come back. */
function errorHeaders(err: YakError): Record<string, string> | undefined {
  if (err.code === 'METHOD_NOT_ALLOWED') {
    const allow = allowHeader(err.extra['allow']);
    return allow ? { allow } : undefined;
  }
  if (err.code === 'UNAUTHENTICATED') return { 'www-authenticate': 'Bearer realm="yak"' };
  if (err.code === 'THROTTLED') {
    const ms = err.extra['retry_after_ms'];
    // Retry-After holds whole seconds; round up so a client that obeys it is never early.
    if (typeof ms === 'number' && Number.isFinite(ms)) return { 'retry-after': String(Math.max(1, Math.ceil(ms / 1000))) };
  }
  return undefined;
}

/** Answer `body` (JSON text, or the same already encoded as UTF-8) with `status`. */
export function writeJson(res: ServerResponse, status: number, body: string | Buffer, extraHeaders?: Record<string, string>): void {
  if (res.headersSent) {
    // Half an answer is already on the wire; the only honest thing left is to cut the connection.
    res.destroy();
    return;
  }
  const headers: Record<string, string | number> = {
    'content-type': JSON_CONTENT_TYPE,
    'content-length': Buffer.byteLength(body),
    ...extraHeaders,
  };
  res.writeHead(status, headers);
  res.end(body);
}

/** Answer an error through mapError; does nothing if the client has already gone. Never throws. */
export function writeError(res: ServerResponse, err: unknown, log: Logger): void {
  if (res.destroyed || res.writableEnded) return;
  const { status, body, headers } = mapError(err, log);
  try {
    writeJson(res, status, body, headers);
  } catch (writeErr) {
    log(`internal error: could not answer ${status}: ${describe(writeErr)}`);
    res.destroy();
  }
}

function allowHeader(allow: unknown): string | undefined {
  return Array.isArray(allow) ? allow.join(', ') : undefined;
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  try {
    return `non-Error thrown: ${JSON.stringify(err)}`;
  } catch {
    return `non-Error thrown: ${String(err)}`;
  }
}

/** Keep echoed client input short in messages. */
export function clip(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
