import { readFile } from 'node:fs/promises';
import { PRINCIPAL_NAME, type AuthTable, type Principal } from './principal.js';
import { parseSecretHash } from './secret-hash.js';
import { TopicPatterns, patternProblem } from './topic-pattern.js';

/**
 * The --auth-file, JSON (docs/security.md):
 *
 *   { "principals": { "<name>": { "secret_hash": "scrypt$…", "produce": ["orders.*"],
 *       "consume": ["*"], "admin": false,
 *       "quota": { "in_bytes_per_second": 1048576, "out_bytes_per_second": 4194304 } } } }
 *
 * Checked completely before it is used: unknown fields are errors too (a misspelt "consumes"
 * would otherwise silently grant nothing), and the first problem is reported naming its place.
 */

/** What is wrong with an auth file, one line naming the place (`principals.app.produce[1]: …`). */
export class AuthFileError extends Error {
  override readonly name = 'AuthFileError';
}

const PRINCIPAL_FIELDS = new Set(['secret_hash', 'produce', 'consume', 'admin', 'quota', 'groups']);
const QUOTA_FIELDS = new Set(['in_bytes_per_second', 'out_bytes_per_second']);
/** Far more than any principal on a small broker; a bound on what a file can make us hold. */
const MAX_PRINCIPALS = 10_000;
const MAX_PATTERNS = 1000;

/** Reads and checks the file; throws AuthFileError (also for a file that cannot be read). */
export async function loadAuthFile(path: string): Promise<AuthTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AuthFileError(code === 'ENOENT' ? 'no such file' : `cannot be read: ${(err as Error).message}`);
  }
  return parseAuthFile(text);
}

export function parseAuthFile(text: string): AuthTable {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new AuthFileError(`is not valid JSON: ${(err as Error).message}`);
  }
  const root = object(doc, 'the file');
  for (const key of Object.keys(root)) if (key !== 'principals') throw new AuthFileError(`has an unknown field '${key}' (expected only "principals")`);
  const list = object(root['principals'], 'principals');
  const names = Object.keys(list);
  if (names.length === 0) throw new AuthFileError('principals is empty: no client could connect');
  if (names.length > MAX_PRINCIPALS) throw new AuthFileError(`has ${names.length} principals; at most ${MAX_PRINCIPALS}`);
  const principals = new Map<string, Principal>();
  for (const name of names) principals.set(name, principal(name, list[name]));
  return { principals };
}

function principal(name: string, value: unknown): Principal {
  const at = `principals.${name}`;
  if (!PRINCIPAL_NAME.test(name)) throw new AuthFileError(`${at}: the name must be 1-64 characters of A-Z a-z 0-9 . _ -`);
  const p = object(value, at);
  for (const key of Object.keys(p)) {
    if (!PRINCIPAL_FIELDS.has(key)) throw new AuthFileError(`${at}: unknown field '${key}' (expected ${[...PRINCIPAL_FIELDS].join(', ')})`);
  }
  const hashText = p['secret_hash'];
  if (typeof hashText !== 'string') throw new AuthFileError(`${at}.secret_hash is required: the output of \`yak-broker hash-secret\``);
  let secretHash;
  try {
    secretHash = parseSecretHash(hashText);
  } catch (err) {
    throw new AuthFileError(`${at}.secret_hash ${(err as Error).message}`);
  }
  const admin = p['admin'] ?? false;
  if (typeof admin !== 'boolean') throw new AuthFileError(`${at}.admin must be true or false`);
  const quota = p['quota'] === undefined ? {} : object(p['quota'], `${at}.quota`);
  for (const key of Object.keys(quota)) {
    if (!QUOTA_FIELDS.has(key)) throw new AuthFileError(`${at}.quota: unknown field '${key}' (expected ${[...QUOTA_FIELDS].join(', ')})`);
  }
  return {
    name,
    secretHash,
    produce: patterns(p['produce'], `${at}.produce`),
    consume: patterns(p['consume'], `${at}.consume`),
    admin,
    inBytesPerSecond: rate(quota['in_bytes_per_second'], `${at}.quota.in_bytes_per_second`),
    outBytesPerSecond: rate(quota['out_bytes_per_second'], `${at}.quota.out_bytes_per_second`),
    // Group names use the topic alphabet on REST, so the same glob patterns describe them.
    ...(p['groups'] !== undefined ? { groups: patterns(p['groups'], `${at}.groups`) } : {}),
  };
}

function patterns(value: unknown, at: string): TopicPatterns {
  if (value === undefined) return new TopicPatterns([]);
  if (!Array.isArray(value)) throw new AuthFileError(`${at} must be a list of topic patterns such as ["orders.*"]`);
  if (value.length > MAX_PATTERNS) throw new AuthFileError(`${at} has ${value.length} patterns; at most ${MAX_PATTERNS}`);
  value.forEach((pattern: unknown, i) => {
    const problem = patternProblem(pattern);
    if (problem) throw new AuthFileError(`${at}[${i}] ${problem}`);
  });
  return new TopicPatterns(value as string[]);
}

function rate(value: unknown, at: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new AuthFileError(`${at} must be a whole number of bytes per second >= 1 (leave it out for no limit)`);
  }
  return value;
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new AuthFileError(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}
