import { invalidArgument } from './errors.js';

/**
 * Small checks over untrusted values (from the renderer over IPC, or from HTTP). Each one names
 * the argument in its message, so a refused call says exactly what was wrong.
 */

export const TOPIC_RE = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,249}$/;

export type Plain = Record<string, unknown>;

export function isPlainObject(value: unknown): value is Plain {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export function object(value: unknown, what: string, allowed: readonly string[]): Plain {
  if (!isPlainObject(value)) throw invalidArgument(`${what} must be an object`);
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw invalidArgument(`${what} has an unknown field '${clip(key)}' (allowed: ${allowed.join(', ')})`);
  }
  return value;
}

export function string(value: unknown, what: string, maxLength = 1000): string {
  if (typeof value !== 'string') throw invalidArgument(`${what} must be a string`);
  if (value.length > maxLength) throw invalidArgument(`${what} is longer than ${maxLength} characters`);
  return value;
}

export function boolean(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw invalidArgument(`${what} must be true or false`);
  return value;
}

export function integer(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument(`${what} must be an integer from ${min} to ${max}`);
  }
  return value;
}

export function decimal(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalidArgument(`${what} must be a number from ${min} to ${max}`);
  }
  return value;
}

export function oneOf<T extends string>(value: unknown, what: string, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw invalidArgument(`${what} must be one of ${choices.map((c) => `'${c}'`).join(', ')}`);
  }
  return value as T;
}

export function topic(value: unknown, what = 'topic'): string {
  if (typeof value !== 'string' || !TOPIC_RE.test(value)) {
    throw invalidArgument(`${what} must be 1-249 characters of A-Z a-z 0-9 . _ - (not '.' or '..')`);
  }
  return value;
}

export function headers(value: unknown, what: string): Record<string, string> {
  if (!isPlainObject(value)) throw invalidArgument(`${what} must be an object of string values`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw invalidArgument(`${what}.${clip(k)} must be a string`);
    out[k] = v;
  }
  return out;
}

/**
 * A payload must be plain JSON: IPC's structured clone would also let a Map, a Date or undefined
 * through, which the broker could not store as the user typed it. (Its size is checked with the
 * whole record's: validate.ts recordFields.)
 */
export function jsonValue(value: unknown, what: string): unknown {
  checkJson(value, what, 0);
  return value;
}

function checkJson(value: unknown, what: string, depth: number): void {
  if (depth > 64) throw invalidArgument(`${what} is nested deeper than 64 levels`);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalidArgument(`${what} must be JSON: ${value} is not a JSON number`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkJson(item, `${what}[${i}]`, depth + 1));
    return;
  }
  if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) checkJson(v, `${what}.${clip(k)}`, depth + 1);
    return;
  }
  throw invalidArgument(`${what} must be a JSON value (null, boolean, number, string, array or object), not ${typeof value}`);
}

export function clip(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
