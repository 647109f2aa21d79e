import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConsumeRequest, ConsumeResult } from '../../../src/shared/cluster-api.js';
import { toCsv, type ExportedRecord } from '../../../src/renderer/src/lib/recordExport.js';
import { offsetForTimestamp } from '../../../src/renderer/src/lib/seekTimestamp.js';

/** A partition log in memory: offsets from `start`, record i stamped `stamps[i]`. */
function partition(stamps: number[], start = 0) {
  const probes: number[] = [];
  const consume = async (r: ConsumeRequest): Promise<ConsumeResult> => {
    const offset = r.offset as number;
    probes.push(offset);
    const hwm = start + stamps.length;
    const i = Math.max(offset, start) - start;
    const records = i < stamps.length ? [{ offset: start + i, key: null, payload: i, timestamp: stamps[i]!, headers: {} }] : [];
    return { topic: r.topic, partition: r.partition, records, nextOffset: records.length ? start + i + 1 : offset, highWatermark: hwm };
  };
  return { consume, probes };
}

describe('seek by timestamp (src/renderer/src/lib/seekTimestamp.ts)', () => {
  const stamps = Array.from({ length: 100_000 }, (_, i) => 1_000 + Math.floor(i / 3)); // 3 records per ms

  it('finds the first offset stamped at or after the time, in about log2(n) probes', async () => {
    const p = partition(stamps);
    assert.deepEqual(await offsetForTimestamp(p, 't', 0, 1_000 + 500, 0), { offset: 1_500, highWatermark: 100_000 });
    assert.ok(p.probes.length <= 20, `${p.probes.length} probes`);
  });

  it('before the first record: the log start; after the last: the high-water mark; empty: the start', async () => {
    assert.equal((await offsetForTimestamp(partition(stamps, 40), 't', 0, 0, 40)).offset, 40);
    assert.equal((await offsetForTimestamp(partition(stamps), 't', 0, 10 ** 12, 0)).offset, 100_000);
    assert.deepEqual(await offsetForTimestamp(partition([]), 't', 0, 5, 0), { offset: 0, highWatermark: 0 });
  });
});

describe('export as CSV (src/renderer/src/lib/recordExport.ts)', () => {
  it('quotes commas, quotes and line breaks (RFC 4180); a string payload stays its text', () => {
    const r: ExportedRecord[] = [
      { topic: 't', partition: 0, offset: 7, timestamp: 0, key: 'a,b', headers: { h: '"x"' }, payload: 'line 1\nline 2' },
      { topic: 't', partition: 1, offset: 8, timestamp: 0, key: null, headers: {}, payload: { n: 1 } },
    ];
    assert.equal(
      toCsv(r),
      'topic,partition,offset,timestamp,key,headers,payload\r\n' +
        't,0,7,1970-01-01T00:00:00.000Z,"a,b","{""h"":""\\""x\\""""}","line 1\nline 2"\r\n' +
        't,1,8,1970-01-01T00:00:00.000Z,,{},"{""n"":1}"\r\n',
    );
  });
});
