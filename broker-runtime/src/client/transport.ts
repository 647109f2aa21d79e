import { YakClientError, errorFromAnswer, errorFromFetch } from './errors.js';
import type { FetchLike } from './tls-fetch.js';

/** How the client reaches brokers: its token, and fetch with its TLS settings (tls-fetch.ts). */
export interface Connection {
  token?: string;
  /** Default: the global fetch. */
  fetch?: FetchLike;
}

/** One HTTP request as the client describes it. */
export interface Call {
  method: 'GET' | 'POST';
  /** Path and query, e.g. /consume?topic=t&partition=0&offset=0. */
  path: string;
  /** Sent as JSON when present. */
  body?: unknown;
  /** Overrides the client's per-request timeout. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * One HTTP exchange with one broker: JSON in, JSON out. A non-2xx answer, a timeout, a lost
 * connection or a body that is not JSON becomes a YakClientError; nothing is retried here.
 */
export async function exchange<T>(base: string, call: Call, defaultTimeoutMs: number, connection: Connection = {}): Promise<T> {
  const { token } = connection;
  const doFetch: FetchLike = connection.fetch ?? fetch;
  const url = base + call.path;
  const what = `${call.method} ${url}`;
  const timeoutMs = call.timeoutMs ?? defaultTimeoutMs;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
  // Serialised before the try: a value JSON cannot hold is the caller's bug, not a network failure.
  const body = call.body === undefined ? undefined : JSON.stringify(call.body);
  let status: number;
  let text: string;
  let retryAfter: string | null;
  try {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
    const res = await doFetch(url, { method: call.method, signal, headers, ...(body === undefined ? {} : { body }) });
    status = res.status;
    retryAfter = res.headers.get('retry-after');
    text = await res.text();
  } catch (err) {
    throw errorFromFetch(err, what, timeoutMs, call.signal);
  }
  if (status < 200 || status > 299) throw errorFromAnswer(status, text, what, retryAfter);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new YakClientError('BAD_RESPONSE', status, `${what} answered ${status} with a body that is not JSON: ${text.slice(0, 120)}`, false);
  }
}
