import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import {
  CODEC_IDS,
  CompressionError,
  MAX_UNCOMPRESSED_BATCH_BYTES,
  codecById,
  codecByName,
  compressionFor,
  snappyDeclaredLength,
} from '../../../../broker-runtime/src/log/compression/index.js';

const snappy = createRequire(import.meta.url)('snappy') as { compressSync(b: Buffer): Buffer };

describe('compression codecs', () => {
  it("use Kafka's codec ids", () => {
    assert.deepEqual(CODEC_IDS, { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 });
    assert.equal(codecByName('gzip')!.id, 1);
    assert.equal(codecByName('snappy')!.id, 2);
    assert.equal(codecByName('none'), undefined);
    assert.equal(codecById(3), undefined, 'lz4 has an id but no implementation');
  });

  for (const name of ['gzip', 'snappy'] as const) {
    it(`${name} round-trips empty, small, large and incompressible data`, () => {
      const codec = codecByName(name)!;
      const random = Buffer.alloc(100_000);
      for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24;
      for (const plain of [Buffer.alloc(0), Buffer.from('{"a":1}'), Buffer.from('x'.repeat(1_000_000)), random]) {
        const packed = codec.compress(plain);
        assert.deepEqual(codec.decompress(packed, plain.length), plain);
      }
    });

    it(`${name} refuses data that decompresses to more or less than the batch declares`, () => {
      const codec = codecByName(name)!;
      const plain = Buffer.from('y'.repeat(10_000));
      const packed = codec.compress(plain);
      assert.throws(() => codec.decompress(packed, plain.length - 1), CompressionError);
      assert.throws(() => codec.decompress(packed, plain.length + 1), CompressionError);
      assert.throws(() => codec.decompress(Buffer.from('not compressed at all'), 21), CompressionError);
    });

    it(`${name} refuses a declared size over the limit before decompressing`, () => {
      const codec = codecByName(name)!;
      assert.throws(() => codec.decompress(codec.compress(Buffer.from('z')), MAX_UNCOMPRESSED_BATCH_BYTES + 1), /over the .*-byte limit/);
    });
  }

  it('gzip stops inflating a bomb at the declared size', () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024)); // ~50 KB that inflate to 50 MiB
    assert.ok(bomb.length < 100_000);
    assert.throws(() => codecByName('gzip')!.decompress(bomb, 1000), CompressionError);
  });

  it('snappy checks the preamble before allocating', () => {
    const packed = snappy.compressSync(Buffer.alloc(5000));
    assert.equal(snappyDeclaredLength(packed), 5000);
    // A preamble claiming 1 GiB: refused by its declared length, nothing allocated.
    const liar = Buffer.concat([Buffer.from([0x80, 0x80, 0x80, 0x80, 0x04]), packed.subarray(2)]);
    assert.equal(snappyDeclaredLength(liar), 2 ** 30);
    assert.throws(() => codecByName('snappy')!.decompress(liar, 5000), /block says 1073741824/);
    assert.equal(snappyDeclaredLength(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), -1);
  });

  it('chooses the topic codec unless the topic leaves it to the producer', () => {
    assert.equal(compressionFor(undefined, undefined), 'none');
    assert.equal(compressionFor('producer', 'gzip'), 'gzip');
    assert.equal(compressionFor('snappy', 'gzip'), 'snappy');
    assert.equal(compressionFor('none', 'snappy'), 'none');
  });
});
