import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { renderConsume, renderEncodedConsume } from '../../../broker-runtime/src/http/consume-render.js';
import { decodeRecords, encodeRecords } from '../../../broker-runtime/src/log/record-codec.js';
import type { RecordInput } from '../../../broker-runtime/src/log/types.js';

/** A record as the broker stores it: payload and headers are JSON.stringify output, as validate.ts makes them. */
const storedRecord = fc.record({
  key: fc.option(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.constantFrom('"quoted"', 'back\\slash', 'tab\tnew\nline', '\u0000', 'ü€😀')), { nil: null }),
  payload: fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
  headers: fc.dictionary(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), { maxKeys: 3 }),
  timestamp: fc.oneof(fc.integer({ min: 0, max: 2 ** 47 }), fc.double({ min: 0, max: 1e15, noNaN: true })),
});

/** What the broker answers from decoded records (the reference), as bytes on the wire. */
function reference(topic: string, partition: number, chunks: Buffer[], next: number, hwm: number): Buffer {
  const records = chunks.flatMap((c) => decodeRecords(c)).map((r) => ({ offset: r.offset, key: r.key, payload: r.payload, timestamp: r.timestamp, headers: r.headers }));
  return Buffer.from(renderConsume({ topic, partition, records, next_offset: next, high_watermark: hwm }), 'utf8');
}

describe('consume answer rendered from stored bytes', () => {
  test('is byte for byte the answer rendered from decoded records', () => {
    fc.assert(
      fc.property(fc.array(fc.array(storedRecord, { maxLength: 6 }), { maxLength: 4 }), fc.nat({ max: 2 ** 40 }), (groups, base) => {
        let offset = base;
        const chunks = groups.map((records: RecordInput[]) => {
          const chunk = encodeRecords(records, offset, 3);
          offset += records.length;
          return chunk;
        });
        const served: number[][] = [];
        const encoded = renderEncodedConsume({ topic: 'orders.v1', partition: 2, offset: base, records: chunks, high_watermark: offset + 5, served: (n, bytes) => served.push([n, bytes]) });
        // No record read below the high-water mark means only compaction's gaps lay there: next is the high-water mark.
        assert.deepEqual(encoded, reference('orders.v1', 2, chunks, offset === base ? offset + 5 : offset, offset + 5));
        const payloadBytes = groups.flat().reduce((sum, r) => sum + Buffer.byteLength(r.payload), 0);
        assert.deepEqual(served, [[offset - base, payloadBytes]]);
        JSON.parse(encoded.toString('utf8'));
      }),
      { numRuns: 300 },
    );
  });

  test('an empty answer keeps the offset asked for', () => {
    const body = renderEncodedConsume({ topic: 't', partition: 0, offset: 7, records: [], high_watermark: 7, served: () => {} });
    assert.equal(body.toString(), '{"topic":"t","partition":0,"records":[],"next_offset":7,"high_watermark":7}');
  });

  test('an empty answer below the high-water mark (only compaction gaps there) moves on to it', () => {
    const body = renderEncodedConsume({ topic: 't', partition: 0, offset: 7, records: [], high_watermark: 12, served: () => {} });
    assert.equal(body.toString(), '{"topic":"t","partition":0,"records":[],"next_offset":12,"high_watermark":12}');
  });

  test('grows past its first estimate when keys need escaping', () => {
    const records = Array.from({ length: 50 }, (_, i) => ({ key: '\u0001'.repeat(40), payload: String(i), headers: {}, timestamp: 1 }));
    const chunk = encodeRecords(records, 0, 1);
    const encoded = renderEncodedConsume({ topic: 't', partition: 0, offset: 0, records: [chunk], high_watermark: 50, served: () => {} });
    assert.deepEqual(encoded, reference('t', 0, [chunk], 50, 50));
  });

  test('a chunk that ends inside a record is refused, not half-rendered', () => {
    const chunk = encodeRecords([{ key: null, payload: '1', headers: {}, timestamp: 1 }], 0, 1);
    assert.throws(() => renderEncodedConsume({ topic: 't', partition: 0, offset: 0, records: [chunk.subarray(0, chunk.length - 1)], high_watermark: 1, served: () => {} }));
  });
});
