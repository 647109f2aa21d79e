import { ERROR_TABLE, isErrorCode } from '../errors/error-table.js';
import type { ErrorAnswer } from './types.js';

/**
 * Wire codes worth another try (the broker's own error table says which): the cluster is moving
 * (new leader, replicas catching up, a quota refilling) and the same request may well succeed in a
 * moment. Everything else a broker answers is final.
 */
const isRetriableCode = (code: unknown): boolean => isErrorCode(code) && ERROR_TABLE[code].retriable;
const RETRIABLE_STATUSES = new Set([502, 503, 504]);
/** A 429 that names no wait (not a YAK broker, say) waits this long; and no wait is longer than the cap. */
const DEFAULT_THROTTLE_MS = 1000;
const MAX_THROTTLE_MS = 60_000;

/** Client-side codes, for failures that never got an answer from a broker (status 0). */
export type ClientCode = 'CONNECTION_FAILED' | 'TLS_FAILED' | 'REQUEST_TIMEOUT' | 'ABORTED' | 'BAD_RESPONSE' | 'NO_LEADER' | 'RETRIES_EXHAUSTED';

/**
 * Socket error codes of a TLS handshake that cannot succeed by trying again: a certificate that
 * does not verify (OpenSSL's X509_V_ERR names: unknown CA, wrong name, expired) or an SSL alert from the other side (no
 * client certificate, no common protocol, plain HTTP on the port).
 */
const TLS_FAILURE_RE = /CERT|SIGNATURE|ISSUER|^(INVALID_CA|INVALID_PURPOSE|PATH_LENGTH_EXCEEDED|HOSTNAME_MISMATCH|EPROTO)$|^ERR_SSL_|^ERR_TLS_/;

export class YakClientError extends Error {
  constructor(
    /** The broker's error code (INVALID_REQUEST, NOT_LEADER, ...) or a ClientCode. */
    readonly code: string,
    /** HTTP status, or 0 when no broker answered. */
    readonly status: number,
    message: string,
    readonly retriable: boolean,
    /** The parsed error answer, when a broker gave one. */
    readonly body?: ErrorAnswer,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'YakClientError';
  }
}

/** 401: no token, or one the broker does not accept. Retrying cannot help; fix the token. */
export class YakUnauthenticatedError extends YakClientError {
  constructor(message: string, body?: ErrorAnswer) {
    super('UNAUTHENTICATED', 401, message, false, body);
    this.name = 'YakUnauthenticatedError';
  }
}

/** 403: the principal is known but may not do this (topic pattern, admin). Not retriable. */
export class YakForbiddenError extends YakClientError {
  constructor(message: string, body?: ErrorAnswer) {
    super('FORBIDDEN', 403, message, false, body);
    this.name = 'YakForbiddenError';
  }
}

/** 429: the principal is over its byte quota; retriable once `retryAfterMs` has passed. */
export class YakThrottledError extends YakClientError {
  constructor(
    message: string,
    /** How long the broker asked to wait (retry_after_ms, else the Retry-After header). */
    readonly retryAfterMs: number,
    body?: ErrorAnswer,
  ) {
    super('THROTTLED', 429, message, true, body);
    this.name = 'YakThrottledError';
  }
}

/**
 * 416: the offset asked for is below the partition's log start (deleted by retention). Not
 * retriable as it is: consume again from `logStartOffset` (Kafka's auto.offset.reset=earliest).
 */
export class YakOffsetOutOfRangeError extends YakClientError {
  constructor(
    message: string,
    /** The partition's first offset still held, from the answer's log_start_offset. */
    readonly logStartOffset: number,
    body?: ErrorAnswer,
  ) {
    super('OFFSET_OUT_OF_RANGE', 416, message, false, body);
    this.name = 'YakOffsetOutOfRangeError';
  }
}

/** One try of a request, as the final error reports it. */
export interface Attempt {
  url: string;
  outcome: string;
}

/** Thrown once the retry budget is spent; `cause` is the last failure, `attempts` every HTTP request made. */
export class YakRetriesExhaustedError extends YakClientError {
  constructor(
    what: string,
    readonly tries: number,
    readonly attempts: Attempt[],
    readonly lastError: YakClientError,
    elapsedMs: number,
  ) {
    const requests = attempts.length === tries ? '' : ` (${attempts.length} requests)`;
    super(
      'RETRIES_EXHAUSTED',
      lastError.status,
      `${what} gave up after ${tries} tries${requests} in ${(elapsedMs / 1000).toFixed(1)} s; tried: ${summarise(attempts)}; last error: ${lastError.code}: ${lastError.message}`,
      false,
      lastError.body,
      { cause: lastError },
    );
    this.name = 'YakRetriesExhaustedError';
  }
}

/** How an attempt ended, for the final error's list: "503 NOT_ENOUGH_REPLICAS", "CONNECTION_FAILED". */
export function outcome(err: YakClientError): string {
  return err.status ? `${err.status} ${err.code}` : err.code;
}

/** The error for a non-2xx answer; `retryAfter` is the Retry-After header, if any. */
export function errorFromAnswer(status: number, text: string, what: string, retryAfter?: string | null): YakClientError {
  const body = parseErrorAnswer(text);
  if (status === 401) return new YakUnauthenticatedError(body?.message ?? `${what} answered 401: a token is needed`, body);
  if (status === 403) return new YakForbiddenError(body?.message ?? `${what} answered 403: not permitted`, body);
  if (status === 429) {
    const fromBody = body?.['retry_after_ms'];
    const fromHeader = Number(retryAfter) * 1000;
    const waitMs =
      typeof fromBody === 'number' && Number.isFinite(fromBody) && fromBody >= 0
        ? fromBody
        : Number.isFinite(fromHeader) && fromHeader >= 0 ? fromHeader : DEFAULT_THROTTLE_MS;
    return new YakThrottledError(body?.message ?? `${what} answered 429: over a quota`, Math.min(waitMs, MAX_THROTTLE_MS), body);
  }
  if (status === 416 && body?.error === 'OFFSET_OUT_OF_RANGE' && Number.isSafeInteger(body['log_start_offset'])) {
    return new YakOffsetOutOfRangeError(body.message, body['log_start_offset'] as number, body);
  }
  if (body) {
    return new YakClientError(body.error, status, body.message, isRetriableCode(body.error), body);
  }
  return new YakClientError(
    `HTTP_${status}`,
    status,
    `${what} answered ${status} without a YAK error body: ${text.slice(0, 120)}`,
    RETRIABLE_STATUSES.has(status),
  );
}

/** The error for a fetch that threw: caller abort, our timeout, or no connection. */
export function errorFromFetch(err: unknown, what: string, timeoutMs: number, callerSignal?: AbortSignal): YakClientError {
  if (callerSignal?.aborted) return new YakClientError('ABORTED', 0, `${what} was aborted by the caller`, false, undefined, { cause: err });
  const name = err instanceof Error ? err.name : '';
  if (name === 'TimeoutError') {
    return new YakClientError('REQUEST_TIMEOUT', 0, `${what} got no answer within ${timeoutMs} ms`, true, undefined, { cause: err });
  }
  const detail = describeCause(err);
  const code = err instanceof Error ? (err.cause as { code?: unknown } | undefined)?.code : undefined;
  if (typeof code === 'string' && TLS_FAILURE_RE.test(code)) {
    return new YakClientError('TLS_FAILED', 0, `${what} failed TLS: ${detail} (${code}); give the client the cluster's CA (ca), and cert/key for mutual TLS`, false, undefined, { cause: err });
  }
  return new YakClientError('CONNECTION_FAILED', 0, `${what} failed: ${detail}`, true, undefined, { cause: err });
}

function parseErrorAnswer(text: string): ErrorAnswer | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && typeof (value as ErrorAnswer).error === 'string') {
      const answer = value as ErrorAnswer;
      return { ...answer, message: typeof answer.message === 'string' ? answer.message : answer.error };
    }
  } catch {
    // not JSON: reported as HTTP_<status> by the caller
  }
  return undefined;
}

/** fetch hides the socket error in `cause` (ECONNREFUSED, ECONNRESET, ENOTFOUND, ...). */
function describeCause(err: unknown): string {
  const cause = err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.message === 'string' && cause.message) return cause.message;
  if (cause && typeof cause.code === 'string') return cause.code;
  return err instanceof Error ? err.message : String(err);
}

/** "url: outcome ×n; ..." in first-seen order, so a long retry run stays one readable line. */
function summarise(attempts: Attempt[]): string {
  const counts = new Map<string, number>();
  for (const a of attempts) {
    const line = `${a.url} → ${a.outcome}`;
    counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  return [...counts].map(([line, n]) => (n > 1 ? `${line} ×${n}` : line)).join('; ');
}
