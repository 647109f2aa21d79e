import assert from 'node:assert/strict';
import fs from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { fromStorageError } from '../../../broker-runtime/src/errors/errors.js';
import { mapError } from '../../../broker-runtime/src/http/errors.js';
import { openPartitionLog } from '../../../broker-runtime/src/log/log-loader.js';
import { StorageError, classifyStorageError, isStorageError } from '../../../broker-runtime/src/log/storage-error.js';
import { StorageHealth } from '../../../broker-runtime/src/log/storage-health.js';
import type { StorageObserver } from '../../../broker-runtime/src/log/types.js';
import { logOptions, recs, tempDir } from './helpers.js';

const ALL = Number.MAX_SAFE_INTEGER;

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated, write`), { code, syscall: 'write' });
}

/** Counts what a log reports to its storage observer. */
function observer(): StorageObserver & { failures: StorageError[]; successes: number } {
  const o = { failures: [] as StorageError[], successes: 0, failed: (e: StorageError) => o.failures.push(e), succeeded: () => void o.successes++ };
  return o;
}

/** The next write writes `fraction` of what it was asked to, then every write fails with `code` (as a disk filling up does). */
function fillDiskDuringNextWrite(code = 'ENOSPC', fraction = 0.5): void {
  const realWrite = fs.writeSync;
  let first = true;
  const partial = (fd: number, buf: Buffer, off: number, len: number, pos: number): number => {
    if (!first) throw errno(code);
    first = false;
    return realWrite(fd, buf, off, Math.max(1, Math.floor(len * fraction)), pos);
  };
  mock.method(fs, 'writeSync', partial as typeof fs.writeSync);
  mock.method(fs, 'writevSync', ((fd: number, bufs: Buffer[], pos: number) => {
    const all = Buffer.concat(bufs);
    return partial(fd, all, 0, all.length, pos);
  }) as typeof fs.writevSync);
}

/** FileHandle's prototype, to make truncate or datasync fail. */
async function fileHandleProto(dir: string): Promise<{ truncate: unknown; datasync: unknown }> {
  const fh = await open(join(dir, 'proto-probe'), 'w');
  const proto = Object.getPrototypeOf(fh) as { truncate: unknown; datasync: unknown };
  await fh.close();
  await fs.promises.unlink(join(dir, 'proto-probe'));
  return proto;
}

describe('storage errors are classified once, in the log layer', () => {
  it('names ENOSPC, EDQUOT, EIO, EROFS, EMFILE and ENFILE, and nothing else', () => {
    const kinds = ['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EMFILE', 'ENFILE'].map((c) => classifyStorageError(errno(c), 'w')?.kind);
    assert.deepEqual(kinds, ['full', 'quota', 'io', 'read-only', 'too-many-files', 'too-many-files']);
    assert.equal(classifyStorageError(errno('ENOENT'), 'w'), undefined);
    assert.equal(classifyStorageError(new Error('plain'), 'w'), undefined);
    assert.equal(classifyStorageError(undefined, 'w'), undefined);
  });

  it('keeps a StorageError, and a torn write stays torn', () => {
    const refusal = classifyStorageError(errno('ENOSPC'), 'append')!;
    assert.equal(refusal.torn, false);
    assert.equal(classifyStorageError(refusal, 'again'), refusal);
    assert.equal(classifyStorageError(refusal, 'again', true)!.torn, true);
    assert.equal(classifyStorageError(classifyStorageError(errno('EIO'), 'a', true), 'b')!.torn, true);
  });

  it('a refusal answers 507 INSUFFICIENT_STORAGE without outcome; a torn write 503 UNAVAILABLE with outcome unknown; never 500', () => {
    const logged: string[] = [];
    const refusal = mapError(new StorageError('full', 'ENOSPC', '/secret/path: append'), (l) => logged.push(l));
    assert.equal(refusal.status, 507);
    const body = JSON.parse(refusal.body);
    assert.deepEqual(body, { error: 'INSUFFICIENT_STORAGE', message: body.message, storage: 'full', errno: 'ENOSPC' });
    assert.doesNotMatch(refusal.body, /secret/, 'no file paths from inside');
    const torn = mapError(new StorageError('io', 'EIO', 'x', true), (l) => logged.push(l));
    assert.equal(torn.status, 503);
    assert.equal(JSON.parse(torn.body).outcome, 'unknown');
    assert.equal(JSON.parse(torn.body).error, 'UNAVAILABLE');
    assert.equal(fromStorageError(new StorageError('full', 'ENOSPC', 'x')).retriable, true);
    assert.deepEqual(logged, [], 'a storage fault is not an internal error');
  });
});

describe('a failed append leaves no torn record for later appends', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir('yak-storage-'));
  });
  afterEach(async () => {
    mock.restoreAll();
    await cleanup();
  });

  async function segmentBytes(): Promise<number> {
    const names = (await readdir(dir)).filter((n) => n.endsWith('.log'));
    let total = 0;
    for (const n of names) total += (await stat(join(dir, n))).size;
    return total;
  }

  it('a write cut short by a full disk is undone: a refusal, the file and log end as before, the next append continues', async () => {
    const seen = observer();
    const log = await openPartitionLog(dir, 't', 0, logOptions({ storage: seen }));
    await log.append(recs(0, 5), 1);
    const before = await segmentBytes();
    fillDiskDuringNextWrite('ENOSPC');
    const err = await log.append(recs(5, 20), 1).then(() => assert.fail('append succeeded'), (e: unknown) => e);
    mock.restoreAll();
    assert.ok(isStorageError(err), String(err));
    assert.equal(err.kind, 'full');
    assert.equal(err.torn, false, 'the partial bytes were cut: nothing was written');
    assert.equal(log.logEndOffset(), 5);
    assert.equal(await segmentBytes(), before);
    assert.equal(seen.failures.length, 1);

    assert.deepEqual(await log.append(recs(5, 3), 1), { baseOffset: 5, lastOffset: 7 });
    assert.equal(seen.successes, 2);
    await log.close();
    const reopened = await openPartitionLog(dir, 't', 0, logOptions());
    assert.equal(reopened.recovery.truncatedBytes, 0, 'no garbage to cut at open');
    assert.deepEqual((await reopened.read(0, ALL, 100, 1 << 20)).map((r) => r.payload), recs(0, 8).map((r) => r.payload));
    await reopened.close();
  });

  it('when even the undo fails the write is torn (outcome unknown), and its bytes are cut before the next append', async () => {
    const log = await openPartitionLog(dir, 't', 0, logOptions());
    await log.append(recs(0, 5), 1);
    const before = await segmentBytes();
    const proto = await fileHandleProto(dir);
    fillDiskDuringNextWrite('EIO', 0.9);
    const truncate = mock.method(proto as { truncate: () => Promise<void> }, 'truncate', async () => {
      throw errno('EIO');
    });
    const err = await log.append(recs(5, 20), 1).then(() => assert.fail('append succeeded'), (e: unknown) => e);
    assert.ok(isStorageError(err));
    assert.equal(err.torn, true, 'bytes of the failed write are still in the file');
    assert.ok(truncate.mock.callCount() >= 1);
    assert.ok((await segmentBytes()) > before, 'the torn bytes are there for now');
    assert.equal(log.logEndOffset(), 5);
    // Records of the failed write that did reach the file are invisible to readers.
    assert.equal((await log.read(0, ALL, 100, 1 << 20)).length, 5);

    // While the cut itself still fails, appends are refused (nothing new written after garbage).
    mock.restoreAll();
    fillDiskDuringNextWrite('EIO', 1);
    mock.method(proto as { truncate: () => Promise<void> }, 'truncate', async () => {
      throw errno('EIO');
    });
    const refused = await log.append(recs(5, 1), 1).then(() => assert.fail('append succeeded'), (e: unknown) => e);
    assert.ok(isStorageError(refused));
    assert.equal(refused.torn, false);
    mock.restoreAll();

    assert.deepEqual(await log.append(recs(100, 2), 1), { baseOffset: 5, lastOffset: 6 });
    await log.close();
    const reopened = await openPartitionLog(dir, 't', 0, logOptions());
    assert.equal(reopened.recovery.truncatedBytes, 0, 'the torn bytes were cut before the append, not left behind it');
    assert.equal(reopened.logEndOffset(), 7);
    const payloads = (await reopened.read(0, ALL, 100, 1 << 20)).map((r) => r.payload);
    assert.deepEqual(payloads, [...recs(0, 5), ...recs(100, 2)].map((r) => r.payload));
    await reopened.close();
  });

  it('an fsync that fails (fsync always) is undone too: a refusal, nothing visible, nothing left in the file', async () => {
    const log = await openPartitionLog(dir, 't', 0, logOptions({ fsync: 'always' }));
    await log.append(recs(0, 2), 1);
    const before = await segmentBytes();
    const proto = await fileHandleProto(dir);
    mock.method(proto as { datasync: () => Promise<void> }, 'datasync', async () => {
      throw errno('EIO');
    });
    const err = await log.append(recs(2, 4), 1).then(() => assert.fail('append succeeded'), (e: unknown) => e);
    mock.restoreAll();
    assert.ok(isStorageError(err));
    assert.equal(err.torn, false);
    assert.equal(log.logEndOffset(), 2);
    assert.equal(await segmentBytes(), before);
    assert.deepEqual(await log.append(recs(2, 1), 1), { baseOffset: 2, lastOffset: 2 });
    await log.close();
  });

  it('appends queued behind a failing write (one group) all fail with it; the log stays contiguous', async () => {
    const log = await openPartitionLog(dir, 't', 0, logOptions());
    await log.append(recs(0, 1), 1);
    fillDiskDuringNextWrite('ENOSPC', 0.3);
    const group = await Promise.allSettled([log.append(recs(1, 3), 1), log.append(recs(4, 3), 1), log.append(recs(7, 3), 1)]);
    mock.restoreAll();
    assert.deepEqual(group.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
    assert.deepEqual(await log.append(recs(50, 1), 1), { baseOffset: 1, lastOffset: 1 });
    assert.deepEqual((await log.read(0, ALL, 100, 1 << 20)).map((r) => r.offset), [0, 1]);
    await log.close();
  });

  it('a follower append (appendRaw) on a full disk is refused and reported, and works once space is back', async () => {
    const leader = await openPartitionLog(join(dir, 'leader'), 't', 0, logOptions());
    await leader.append(recs(0, 4), 3);
    const seen = observer();
    const follower = await openPartitionLog(join(dir, 'follower'), 't', 0, logOptions({ storage: seen }));
    const raw = await leader.readRaw(0, 1 << 20);
    fillDiskDuringNextWrite('ENOSPC', 0.5);
    await assert.rejects(follower.appendRaw(raw.bytes), (e: unknown) => isStorageError(e) && e.kind === 'full');
    mock.restoreAll();
    assert.equal(follower.logEndOffset(), 0);
    assert.equal(seen.failures.length, 1);
    assert.deepEqual(await follower.appendRaw(raw.bytes), { count: 4, nextOffset: 4 });
    assert.equal(seen.successes, 1);
    await leader.close();
    await follower.close();
  });
});

describe('storage health: one warning per condition, with counts', () => {
  it('warns when the first write fails, not for the next ones, and says how many failed when a write succeeds', () => {
    const lines: string[] = [];
    let t = 1_000_000;
    const changes: boolean[] = [];
    const health = new StorageHealth({ log: (level, line) => lines.push(`${level} ${line}`), now: () => t });
    health.on('change', (f) => changes.push(f));
    health.succeeded();
    assert.equal(health.view().state, 'ok');
    for (let i = 0; i < 2130; i++) health.failed(new StorageError('full', 'ENOSPC', 'append'));
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^warn storage fault \(full, ENOSPC\)/);
    assert.equal(health.faulted(), true);
    assert.deepEqual({ ...health.view(), since: undefined }, { state: 'faulted', kind: 'full', errno: 'ENOSPC', since: undefined, failed_writes: 2130, failed_writes_total: 2130, faults_total: 1 });
    assert.match(health.reason()!, /storage full \(ENOSPC\)/);
    t += 1_000;
    health.succeeded();
    assert.equal(health.faulted(), true, 'a success within quietMs of a failure (a small write into a last page) does not end it');
    t += 9_000;
    health.succeeded();
    health.succeeded();
    assert.equal(lines.length, 2);
    assert.match(lines[1]!, /cleared after 10\.0 s: 2130 write\(s\) failed/);
    assert.deepEqual(changes, [true, false]);
    assert.deepEqual(health.view(), { state: 'ok', failed_writes: 0, failed_writes_total: 2130, faults_total: 1 });
    assert.equal(health.reason(), undefined);
    health.failed(new StorageError('io', 'EIO', 'append'));
    health.probeSucceeded();
    assert.equal(health.faulted(), false, 'a successful probe ends a fault at once');
    assert.equal(lines.length, 4);
  });
});
