/**
 * One error shape for the renderer, whichever bridge answered.
 *
 * The HTTP host answers `{error: CODE, message}`; Electron's ipcRenderer.invoke wraps a rejection as
 * "Error invoking remote method 'yak:x': Error: CODE: message" — both end up as an ApiError so
 * stores can show the code (a learner should see NOT_ENOUGH_REPLICAS, not "Error").
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: string,
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
  }
}

const IPC_PREFIX = /^Error invoking remote method '[^']*':\s*(?:[A-Za-z]*Error:\s*)?/;
const CODE_PREFIX = /^([A-Z][A-Z0-9_]{2,}):\s*(.*)$/s;
const CODE_NAME = /^[A-Z][A-Z0-9_]{2,}$/;

export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const raw = error instanceof Error ? error.message : String(error);
  // The preload names a refused call's Error after its code (err.name = 'NOT_LEADER'); a host may
  // also set `code`. Either wins over parsing the message.
  const e = error as { code?: unknown; name?: unknown } | null;
  const named = typeof e?.name === 'string' && CODE_NAME.test(e.name) ? e.name : null;
  const code = typeof e?.code === 'string' ? e.code : named;
  const message = raw.replace(IPC_PREFIX, '');
  const coded = CODE_PREFIX.exec(message);
  if (coded) return new ApiError(code ?? coded[1]!, coded[2]!);
  return new ApiError(code ?? 'ERROR', message);
}

/** "NOT_LEADER: no leader yet" for display; the code alone when the message only repeats it. */
export function describeError(error: unknown): string {
  const e = toApiError(error);
  if (e.code === 'ERROR' || e.message.startsWith(e.code)) return e.message;
  return `${e.code}: ${e.message}`;
}
