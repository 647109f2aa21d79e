import type { ProduceInput } from '../client/index.js';
import { CommandError, UsageError } from './usage-error.js';

/** How a line's value becomes the record's JSON payload. */
export type ValueMode = 'auto' | 'json' | 'string';

export interface LineRules {
  /** Split each line at the first occurrence of this into key and value (kcat's -K). */
  keyDelimiter?: string;
  /** The key of every record (kcat's -k); not with keyDelimiter. */
  key?: string;
  headers: Record<string, string>;
  partition?: number;
  value: ValueMode;
}

/**
 * One input line as a record. `auto` sends a line that is JSON as that JSON value and any other
 * line as a string, so `{"total":42}` arrives as an object and `hello` as "hello"; `string` sends
 * every line as a string; `json` refuses a line that is not JSON. With a key delimiter, a line
 * without it has no key.
 */
export function recordFromLine(line: string, lineNumber: number, rules: LineRules): ProduceInput {
  let key: string | undefined = rules.key;
  let value = line;
  if (rules.keyDelimiter !== undefined) {
    const at = line.indexOf(rules.keyDelimiter);
    if (at >= 0) {
      key = line.slice(0, at);
      value = line.slice(at + rules.keyDelimiter.length);
    }
  }
  return {
    ...(key !== undefined ? { key } : {}),
    payload: payloadOf(value, lineNumber, rules.value),
    ...(Object.keys(rules.headers).length > 0 ? { headers: rules.headers } : {}),
    ...(rules.partition !== undefined ? { partition: rules.partition } : {}),
  };
}

function payloadOf(value: string, lineNumber: number, mode: ValueMode): unknown {
  if (mode === 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch (err) {
    if (mode === 'auto') return value;
    throw new CommandError(`line ${lineNumber} is not JSON (--value json): ${(err as Error).message}`);
  }
}

/** `-H k=v` options as a header map; the first '=' splits, so values may hold '='. */
export function parseHeaders(list: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const item of list) {
    const at = item.indexOf('=');
    if (at <= 0) throw new UsageError(`-H/--header '${item}' must be name=value`);
    headers[item.slice(0, at)] = item.slice(at + 1);
  }
  return headers;
}

export function parseValueMode(text: string | undefined): ValueMode {
  if (text === undefined) return 'auto';
  if (text === 'auto' || text === 'json' || text === 'string') return text;
  throw new UsageError(`--value must be auto, json or string; got '${text}'`);
}
