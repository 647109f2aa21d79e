/**
 * Errors the ClusterApi answers with. Both hosts turn any thrown value into the same
 * `{error, message}` body (web-protocol.ts CallError) through toCallError, so the renderer sees the
 * same words over IPC and over HTTP.
 */

export type ApiErrorCode =
  | 'INVALID_ARGUMENT'
  | 'MESSAGE_TOO_LARGE'
  | 'UNKNOWN_METHOD'
  | 'UNKNOWN_PROCESS'
  | 'INVALID_STATE'
  | 'REDIS_NOT_FOUND'
  | 'FORBIDDEN'
  | 'INTERNAL';

const STATUS: Record<ApiErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  // The broker's own code and status for a record over its --max-message-bytes.
  MESSAGE_TOO_LARGE: 413,
  UNKNOWN_METHOD: 404,
  UNKNOWN_PROCESS: 404,
  INVALID_STATE: 409,
  REDIS_NOT_FOUND: 503,
  FORBIDDEN: 403,
  INTERNAL: 500,
};

export class ApiError extends Error {
  readonly status: number;

  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = code;
    this.status = STATUS[code];
  }
}

export const invalidArgument = (message: string) => new ApiError('INVALID_ARGUMENT', message);
export const invalidState = (message: string) => new ApiError('INVALID_STATE', message);
export const unknownProcess = (name: string) =>
  new ApiError('UNKNOWN_PROCESS', `no process named '${name}' (use 'redis' or a broker id such as 'broker-1')`);

export const unknownMember = (name: string) =>
  new ApiError('UNKNOWN_PROCESS', `the app runs no group member named '${name}' (names such as 'member-1' are listed by describeGroup)`);

export interface CallFailure {
  status: number;
  body: { error: string; message: string };
}

/**
 * Any thrown value as a status and body. Errors from broker-runtime's client carry the broker's
 * own code and status (NOT_ENOUGH_REPLICAS, UNKNOWN_TOPIC, ...) and are passed through as they are,
 * because they are what a real client would see.
 */
export function toCallFailure(err: unknown): CallFailure {
  if (err instanceof ApiError) return { status: err.status, body: { error: err.code, message: err.message } };
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; status?: unknown };
    const code = typeof e.code === 'string' && /^[A-Z_]{2,40}$/.test(e.code) ? e.code : 'INTERNAL';
    const status = typeof e.status === 'number' && e.status >= 400 && e.status < 600 ? e.status : code === 'INTERNAL' ? 500 : 502;
    return { status, body: { error: code, message: err.message || code } };
  }
  return { status: 500, body: { error: 'INTERNAL', message: String(err) } };
}
