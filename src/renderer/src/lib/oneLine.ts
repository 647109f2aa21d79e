import { toApiError } from '../bridge/errors';

/**
 * An error as one line a learner can read: "NOT_ENOUGH_REPLICAS: 1 in-sync replica(s), 2 required …".
 * A client that gave up after retries says so in a long list of every try; only its last error and
 * how long it tried are kept.
 */
export function oneLineError(error: unknown): { code: string; text: string } {
  const e = toApiError(error);
  if (e.code === 'RETRIES_EXHAUSTED') {
    const last = /last error: ([A-Z_]{2,}): (.*)$/s.exec(e.message);
    const gaveUp = /gave up after (\d+) tries.*? in ([\d.]+) s/.exec(e.message);
    if (last) {
      const code = last[1]!;
      const tail = gaveUp ? ` (gave up after ${gaveUp[1]} tries in ${gaveUp[2]} s)` : '';
      return { code, text: `${code}: ${firstLine(last[2]!)}${tail}` };
    }
  }
  const text = e.code === 'ERROR' || e.message.startsWith(e.code) ? e.message : `${e.code}: ${e.message}`;
  return { code: e.code, text: firstLine(text) };
}

function firstLine(s: string): string {
  const line = s.split('\n')[0]!.trim();
  return line.length > 300 ? `${line.slice(0, 297)}…` : line;
}

/**
 * Codes that refuse a request for what it carries (a bad or too large record): other records may
 * still be accepted. Any other failure (NOT_ENOUGH_REPLICAS, no leader, timeouts, storage) is the
 * cluster's state and refuses every record alike.
 */
const PER_RECORD_CODES = new Set(['INVALID_REQUEST', 'INVALID_JSON', 'INVALID_ARGUMENT', 'MESSAGE_TOO_LARGE', 'HEADERS_TOO_LARGE', 'UNKNOWN_PARTITION', 'TOO_LARGE']);
export const isPerRecordRefusal = (code: string): boolean => PER_RECORD_CODES.has(code);
