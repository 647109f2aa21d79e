import type { ConsumedRecord } from '../client/index.js';
import { UsageError } from './usage-error.js';

/** A consumed record and where it came from. */
export interface Located {
  topic: string;
  partition: number;
  record: ConsumedRecord;
}

export type Formatter = (r: Located) => string;

/** `--json`: one object per line with everything the broker returned. */
export const jsonLine: Formatter = ({ topic, partition, record }) =>
  `${JSON.stringify({ topic, partition, offset: record.offset, key: record.key, payload: record.payload, timestamp: record.timestamp, headers: record.headers })}\n`;

const TOKENS: Record<string, (r: Located) => string> = {
  t: (r) => r.topic,
  p: (r) => String(r.partition),
  o: (r) => String(r.record.offset),
  k: (r) => r.record.key ?? '',
  s: (r) => valueText(r.record.payload),
  S: (r) => String(Buffer.byteLength(valueText(r.record.payload))),
  h: (r) => Object.entries(r.record.headers).map(([k, v]) => `${k}=${v}`).join(','),
  T: (r) => String(r.record.timestamp),
};

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\' };

/**
 * kcat's -f format: %t topic, %p partition, %o offset, %k key, %s value, %S value size in bytes,
 * %h headers (name=value,...), %T timestamp (ms), %% a percent sign; \n \t \r \\ escapes. Like
 * kcat, no newline is added: end the format with \n.
 */
export function compileFormat(format: string): Formatter {
  const parts: (string | ((r: Located) => string))[] = [];
  let text = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    const next = format[i + 1];
    if (c === '%' && next === '%') {
      text += '%';
      i++;
    } else if (c === '%') {
      const token = next === undefined ? undefined : TOKENS[next];
      if (!token) throw new UsageError(`--format: unknown token '%${next ?? ''}'; use %t %p %o %k %s %S %h %T or %%`);
      if (text) parts.push(text);
      text = '';
      parts.push(token);
      i++;
    } else if (c === '\\' && next !== undefined && ESCAPES[next] !== undefined) {
      text += ESCAPES[next];
      i++;
    } else {
      text += c;
    }
  }
  if (text) parts.push(text);
  return (r) => parts.map((p) => (typeof p === 'string' ? p : p(r))).join('');
}

/** A string payload as its text (what `yak produce` read from a line); any other JSON value as JSON. */
export function valueText(payload: unknown): string {
  return typeof payload === 'string' ? payload : JSON.stringify(payload);
}
