/**
 * Whether `buf[start, end)` is one JSON text (RFC 8259, exactly what JSON.parse accepts): checked
 * on the bytes, without building the value. A Kafka value is stored as it is only when it is JSON
 * (record-mapping.ts), and JSON.parse per record, only to throw its result away, was the largest
 * single cost of a Kafka produce on the leader (its parse and the garbage of every value's objects).
 *
 * The bytes must already be valid UTF-8 (the caller checks with isUtf8): here every byte >= 0x80
 * is simply part of a string. Nesting is tracked on an explicit stack, so depth costs memory, not
 * the call stack, as with V8's own iterative JSON.parse.
 */
export function isJsonBytes(buf: Uint8Array, start = 0, end = buf.length): boolean {
  let p = skipWs(buf, start, end);
  // Open containers, innermost last ({ or [): one stack for every call (a call never yields), grown as needed.
  let stack = sharedStack;
  let depth = 0;
  for (;;) {
    // A value is expected at p.
    if (p >= end) return false;
    const c = buf[p]!;
    if (c === QUOTE) {
      p = skipString(buf, p, end);
      if (p < 0) return false;
    } else if (c === LBRACE || c === LBRACKET) {
      p = skipWs(buf, p + 1, end);
      if (p >= end) return false;
      const close = c === LBRACE ? RBRACE : RBRACKET;
      if (buf[p] === close) {
        p++; // {} or []
      } else {
        if (depth === stack.length) stack = sharedStack = grow(stack);
        stack[depth++] = c;
        if (c === LBRACE) {
          p = member(buf, p, end);
          if (p < 0) return false;
        }
        continue; // the first element or member value
      }
    } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
      p = skipNumber(buf, p, end);
      if (p < 0) return false;
    } else if (c === 0x74 /* t */) {
      if (!literal(buf, p, end, TRUE)) return false;
      p += 4;
    } else if (c === 0x66 /* f */) {
      if (!literal(buf, p, end, FALSE)) return false;
      p += 5;
    } else if (c === 0x6e /* n */) {
      if (!literal(buf, p, end, NULL)) return false;
      p += 4;
    } else {
      return false;
    }
    // After a value: close containers, or a comma and the next element/member, or the end.
    for (;;) {
      p = skipWs(buf, p, end);
      if (depth === 0) return p === end;
      if (p >= end) return false;
      const d = buf[p]!;
      const open = stack[depth - 1]!;
      if (d === COMMA) {
        p = skipWs(buf, p + 1, end);
        if (open === LBRACE) {
          p = member(buf, p, end);
          if (p < 0) return false;
        }
        break; // a value follows
      }
      if (d !== (open === LBRACE ? RBRACE : RBRACKET)) return false;
      depth--;
      p++;
    }
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];
let sharedStack: Uint8Array = new Uint8Array(64);
/** 1 for a byte that stands for itself inside a string: not a quote, a backslash or a control character. */
const STRING_PLAIN = new Uint8Array(256).map((_, b) => (b >= 0x20 && b !== QUOTE && b !== BACKSLASH ? 1 : 0));

function grow(stack: Uint8Array): Uint8Array {
  const next = new Uint8Array(Math.max(16, stack.length * 2));
  next.set(stack);
  return next;
}

function skipWs(buf: Uint8Array, p: number, end: number): number {
  while (p < end) {
    const c = buf[p]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    p++;
  }
  return p;
}

/** A member's name and colon at p (whitespace skipped before it): the position of its value, or -1. */
function member(buf: Uint8Array, p: number, end: number): number {
  if (p >= end || buf[p] !== QUOTE) return -1;
  p = skipString(buf, p, end);
  if (p < 0) return -1;
  p = skipWs(buf, p, end);
  if (p >= end || buf[p] !== COLON) return -1;
  return skipWs(buf, p + 1, end);
}

/** The string starting at p (a quote): the position after its closing quote, or -1. */
function skipString(buf: Uint8Array, p: number, end: number): number {
  p++;
  while (p < end) {
    // Plain bytes in one tight loop: one table load per byte.
    while (p < end && STRING_PLAIN[buf[p]!] === 1) p++;
    if (p >= end) return -1;
    const c = buf[p++]!;
    if (c === QUOTE) return p;
    if (c < 0x20) return -1; // control characters must be escaped
    if (c === BACKSLASH) {
      if (p >= end) return -1;
      const e = buf[p++]!;
      if (e === 0x75 /* u */) {
        if (p + 4 > end) return -1;
        for (let i = 0; i < 4; i++) if (!isHex(buf[p++]!)) return -1;
      } else if (e !== QUOTE && e !== BACKSLASH && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) {
        return -1;
      }
    }
  }
  return -1;
}

function isHex(c: number): boolean {
  return (c >= ZERO && c <= NINE) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** The number starting at p: the position after it, or -1. */
function skipNumber(buf: Uint8Array, p: number, end: number): number {
  if (buf[p] === MINUS) p++;
  if (p >= end) return -1;
  if (buf[p] === ZERO) p++;
  else if (buf[p]! >= 0x31 && buf[p]! <= NINE) p = digits(buf, p, end);
  else return -1;
  if (p < end && buf[p] === DOT) {
    const q = digits(buf, p + 1, end);
    if (q === p + 1) return -1;
    p = q;
  }
  if (p < end && (buf[p] === 0x65 || buf[p] === 0x45)) {
    p++;
    if (p < end && (buf[p] === PLUS || buf[p] === MINUS)) p++;
    const q = digits(buf, p, end);
    if (q === p) return -1;
    p = q;
  }
  return p;
}

function digits(buf: Uint8Array, p: number, end: number): number {
  while (p < end && buf[p]! >= ZERO && buf[p]! <= NINE) p++;
  return p;
}

function literal(buf: Uint8Array, p: number, end: number, word: readonly number[]): boolean {
  if (p + word.length > end) return false;
  for (let i = 0; i < word.length; i++) if (buf[p + i] !== word[i]) return false;
  return true;
}
