import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogOptions, RecordInput } from '../../../broker-runtime/src/log/types.js';

/** A fresh folder under the OS temp dir; call the returned cleanup when done. */
export async function tempDir(prefix = 'yak-log-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }) };
}

/** Small segments and a dense index, so few records exercise rolls and index lookups. */
export function logOptions(overrides: Partial<LogOptions> = {}): LogOptions {
  return { segmentBytes: 1024 * 1024, indexIntervalBytes: 4096, fsync: 'never', fsyncIntervalMs: 1000, ...overrides };
}

/** The i-th record of a test: keyed, with headers on every third one. */
export function rec(i: number): RecordInput {
  return {
    key: i % 5 === 0 ? null : `key-${i}`,
    payload: JSON.stringify({ n: i, text: `payload ${i}` }),
    headers: i % 3 === 0 ? { source: 'test', n: String(i) } : {},
    timestamp: 1_700_000_000_000 + i,
  };
}

export function recs(from: number, count: number): RecordInput[] {
  return Array.from({ length: count }, (_, k) => rec(from + k));
}

/** Collects logger lines. */
export function collectLines(): { lines: string[]; logger: (line: string) => void } {
  const lines: string[] = [];
  return { lines, logger: (line) => lines.push(line) };
}
