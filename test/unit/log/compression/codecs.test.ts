import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import {
  CODEC_IDS,
  CompressionError,
  MAX_UNCOMPRESSED_BATCH_BYTES,
  codecById,
  codecByName,
  compressionFor,
  lz4DeclaredLength,
} from '../../../../broker-runtime/src/log/compression/index.js';

describe('compression codecs', () => {
  it("use Kafka's codec ids", () => {
    assert.deepEqual(CODEC_IDS, { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 });
    assert.equal(codecByName('gzip')!.id, 1);
    assert.equal(codecByName('lz4')!.id, 3);
    assert.equal(codecByName('none'), undefined);
    assert.equal(codecById(2), undefined, 'snappy has an id but no implementation');
    assert.equal(codecById(4), undefined, 'zstd has an id but no implementation');
  });

  for (const name of ['gzip', 'lz4'] as const) {
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

  it('lz4 checks the prepended size before allocating', () => {
    const codec = codecByName('lz4')!;
    const packed = codec.compress(Buffer.alloc(5000));
    assert.equal(lz4DeclaredLength(packed), 5000);
    // A prefix claiming 1 GiB: refused by its declared length, nothing allocated.
    const liar = Buffer.from(packed);
    liar.writeUInt32LE(2 ** 30, 0);
    assert.equal(lz4DeclaredLength(liar), 2 ** 30);
    assert.throws(() => codec.decompress(liar, 5000), /block says 1073741824/);
    assert.equal(lz4DeclaredLength(Buffer.from([1, 2, 3])), -1);
    assert.throws(() => codec.decompress(Buffer.from([1, 2, 3]), 5000), CompressionError);
  });

  it('chooses the topic codec unless the topic leaves it to the producer', () => {
    assert.equal(compressionFor(undefined, undefined), 'none');
    assert.equal(compressionFor('producer', 'gzip'), 'gzip');
    assert.equal(compressionFor('lz4', 'gzip'), 'lz4');
    assert.equal(compressionFor('none', 'lz4'), 'none');
  });
});
