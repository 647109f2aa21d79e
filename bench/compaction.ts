/**
 * Log compaction of one partition (issue 14, item 1), on the storage layer alone (no cluster): N
 * commit-like records over K keys in segments of S bytes, then one compaction pass: how long it
 * takes, the bytes before and after, and how long reading the whole partition back takes before
 * and after (what a new coordinator does at a failover). Alone:
 *
 *   node --import tsx bench/compaction.ts [--records 200000] [--keys 1000] [--segment-bytes 1048576]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { offsetRecord, OFFSETS_COMPACTION_RULE } from '../broker-runtime/src/groups/offsets-log.js';
import { openPartitionLog } from '../broker-runtime/src/log/log-loader.js';
import type { FilePartitionLog } from '../broker-runtime/src/log/partition-log.js';

async function readAll(log: FilePartitionLog): Promise<number> {
  let n = 0;
  for (let next = log.logStartOffset(); next < log.highWatermark(); ) {
    const got = await log.read(next, log.highWatermark(), 5000, 4 << 20);
    if (got.length === 0) break;
    n += got.length;
    next = got[got.length - 1]!.offset + 1;
  }
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { records: { type: 'string', default: '200000' }, keys: { type: 'string', default: '1000' }, 'segment-bytes': { type: 'string', default: String(1 << 20) } } });
  const records = Number(values.records);
  const keys = Number(values.keys);
  const segmentBytes = Number(values['segment-bytes']);
  const dir = await mkdtemp(join(tmpdir(), 'yak-bench-compaction-'));
  try {
    const log = await openPartitionLog(dir, '__consumer_offsets', 0, { segmentBytes, indexIntervalBytes: 4096, fsync: 'never', fsyncIntervalMs: 1000 });
    for (let i = 0; i < records; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, records - i) }, (_, k) => {
        const n = i + k;
        const r = offsetRecord({ group: `g${n % keys}`, topic: 'orders', partition: 0, offset: n, metadata: '', commit_timestamp: Date.now() });
        return { key: r.key, payload: r.payload, headers: {}, timestamp: Date.now() };
      });
      await log.append(batch, 1);
    }
    log.setHighWatermark(log.logEndOffset());
    let t = performance.now();
    const before = await readAll(log);
    const readBeforeMs = performance.now() - t;
    t = performance.now();
    const report = await log.compact(OFFSETS_COMPACTION_RULE, { nowMs: Date.now(), deleteRetentionMs: 86_400_000 });
    const compactMs = performance.now() - t;
    t = performance.now();
    const after = await readAll(log);
    const readAfterMs = performance.now() - t;
    await log.close();
    const mb = (b: number) => (b / 1048576).toFixed(1);
    console.log(`records ${records}, keys ${keys}, segments of ${segmentBytes} bytes`);
    console.log(`compaction: ${report.segments} segment(s) in ${compactMs.toFixed(0)} ms, ${report.removed} record(s) removed, ${mb(report.bytesBefore)} MiB -> ${mb(report.bytesAfter)} MiB; log start ${report.logStartOffset}`);
    console.log(`read back (a coordinator's load): ${before} records in ${readBeforeMs.toFixed(0)} ms before, ${after} in ${readAfterMs.toFixed(0)} ms after`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
