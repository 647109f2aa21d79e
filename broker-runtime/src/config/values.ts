import { isIP } from 'node:net';
import { ConfigError } from './config-error.js';

/** A value and where it came from: `env` is the variable's name, absent for a command-line flag. */
export interface Raw {
  value: string;
  env?: string;
}

const HOSTNAME_RE = /^[A-Za-z0-9_.-]{1,253}$/;
const INT_RE = /^[+-]?\d+$/;
const DECIMAL_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
/** Node timers overflow past 2^31-1 ms, and every duration here ends up in a timer. */
export const MAX_MS = 2_147_483_647;

export function invalid(flag: string, raw: Raw, expected: string): ConfigError {
  const from = raw.env ? ` (from ${raw.env})` : '';
  return new ConfigError(
    `invalid value ${JSON.stringify(redact(raw.value))} for --${flag}${from}: expected ${expected}`,
    `--${flag}`,
  );
}

/** Hides a password in a URL-ish value (`redis://:secret@host` -> `redis://***@host`) before it is printed. */
/** A URL as it may be logged: `redis://:secret@host` -> `redis://***@host`. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}

function redact(value: string): string {
  return value.replace(/\/\/[^@/]*@/, '//***@');
}

/** `5, the default` / `5, from RENEW_INTERVAL_SECONDS` / `5`: where a seconds value came from. */
export function describe(raw: Raw | undefined, ms: number): string {
  const s = `${ms / 1000}`;
  if (!raw) return `${s}, the default`;
  return raw.env ? `${s}, from ${raw.env}` : s;
}

export function matching(flag: string, raw: Raw, re: RegExp, rule: string): string {
  if (!re.test(raw.value)) throw invalid(flag, raw, rule);
  return raw.value;
}

export function integer(flag: string, raw: Raw, min: number, max: number): number {
  const n = INT_RE.test(raw.value) ? Number(raw.value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
    throw invalid(flag, raw, range);
  }
  return n;
}

/** Seconds (fractional allowed) to whole milliseconds; must be > 0 and at least 1 ms. */
export function seconds(flag: string, raw: Raw): number {
  const s = DECIMAL_RE.test(raw.value) ? Number(raw.value) : NaN;
  const ms = Math.round(s * 1000);
  if (!Number.isFinite(s) || ms < 1 || ms > MAX_MS) {
    throw invalid(flag, raw, `a number of seconds > 0 (fractions allowed, at least 0.001, at most ${MAX_MS / 1000})`);
  }
  return ms;
}

export function boolean(flag: string, raw: Raw): boolean {
  const v = raw.value.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw invalid(flag, raw, 'true or 1 (on), false or 0 (off)');
}

export function oneOf<T extends string>(flag: string, raw: Raw, allowed: readonly T[]): T {
  const found = allowed.find((a) => a === raw.value.toLowerCase());
  if (found === undefined) throw invalid(flag, raw, `one of ${allowed.join(', ')}`);
  return found;
}

/** An IP literal or hostname, also `[::1]`; returned bare. */
export function hostName(value: string): string | undefined {
  const bare = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  return isIP(bare) !== 0 || HOSTNAME_RE.test(bare) ? bare : undefined;
}

/** A host as a URL wants it: IPv6 literals in brackets. */
export function urlHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** The listen address, bare (what listen() wants), IPv6 with or without brackets. */
export function parseHost(raw: Raw): string {
  const bare = hostName(raw.value);
  if (bare === undefined) throw invalid('host', raw, 'an IP address or hostname such as 127.0.0.1, 0.0.0.0 or ::');
  return bare;
}

export function parseRedisUrl(raw: Raw): string {
  const url = URL.canParse(raw.value) ? new URL(raw.value) : undefined;
  if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || !url.hostname) {
    throw invalid('redis', raw, 'a redis:// or rediss:// URL such as redis://localhost:6379');
  }
  return raw.value;
}

export function parseAdvertisedUrl(raw: Raw): string {
  const url = URL.canParse(raw.value) ? new URL(raw.value) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname || url.search || url.hash) {
    throw invalid('advertised-url', raw, 'an http:// or https:// URL such as http://10.0.0.5:5001');
  }
  // Clients append paths ("/produce"), so no trailing slash.
  return raw.value.replace(/\/+$/, '');
}
