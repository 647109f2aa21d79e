import { createRequire } from 'node:module';
import { CompressionError, DecompressedTooLarge } from '../../log/compression/index.js';

/**
 * Kafka's snappy (codec 2) as producers send it, decompressed with the `snappy` package (napi-rs
 * over the Rust snap crate; its binary comes from the npm registry as an optional dependency, as
 * lz4-napi's does). Two forms reach a broker: a raw snappy block (librdkafka), and the xerial
 * framing of Java clients and KafkaJS's snappy codec — an 8-byte magic, two int32 versions, then
 * blocks of int32 length + raw snappy block. Every raw block states its uncompressed length in a
 * leading varint: all of them are added up and checked against the request's budget before
 * anything is decompressed, so a snappy bomb is refused without allocating it.
 *
 * Only the listener decodes snappy: YAK does not store it. A topic with compression.type=producer
 * keeps such a batch uncompressed rather than in another codec, because Fetch answers carry stored
 * batches in their stored codec: a consumer that reads snappy (its producer's choice) may not read
 * lz4 (KafkaJS needs a codec package for each), while every client reads uncompressed batches.
 */

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
/** Magic, int32 version, int32 compatible version. */
const XERIAL_HEADER_BYTES = 16;

interface SnappyModule {
  compressSync(input: Uint8Array): Buffer;
  uncompressSync(input: Uint8Array, options: { asBuffer: true }): Buffer | string;
}

// Loaded on first use: a broker that never meets snappy never loads the native binding.
let snappyModule: SnappyModule | undefined;
function snappy(): SnappyModule {
  snappyModule ??= createRequire(import.meta.url)('snappy') as SnappyModule;
  return snappyModule;
}

/** The uncompressed length a raw snappy block states (a little-endian base-128 varint of at most 5 bytes), or -1. */
export function snappyStatedLength(block: Buffer): number {
  let value = 0;
  for (let i = 0; i < 5 && i < block.length; i++) {
    const b = block[i]!;
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return value <= 0xffffffff ? value : -1;
  }
  return -1;
}

/** The raw blocks of `data`: itself, or the blocks of its xerial framing. */
function rawBlocks(data: Buffer): Buffer[] {
  if (data.length < XERIAL_HEADER_BYTES || !data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)) return [data];
  const blocks: Buffer[] = [];
  let pos = XERIAL_HEADER_BYTES;
  while (pos < data.length) {
    if (data.length - pos < 4) throw new CompressionError(`snappy: a xerial block length is cut short at byte ${pos}`);
    const n = data.readInt32BE(pos);
    if (n < 0 || pos + 4 + n > data.length) throw new CompressionError(`snappy: a xerial block claims ${n} bytes, ${data.length - pos - 4} follow`);
    blocks.push(data.subarray(pos + 4, pos + 4 + n));
    pos += 4 + n;
  }
  return blocks;
}

/** Decompresses a Kafka snappy records section to at most `maxBytes`; throws CompressionError (DecompressedTooLarge past the limit). */
export function kafkaSnappyDecompress(data: Buffer, maxBytes: number): Buffer {
  const blocks = rawBlocks(data);
  const stated = blocks.map((b) => snappyStatedLength(b));
  let total = 0;
  for (const n of stated) {
    if (n < 0) throw new CompressionError('snappy: a block does not state its length');
    total += n;
    if (total > maxBytes) throw new DecompressedTooLarge(`snappy: the batch states at least ${total} uncompressed bytes, more than the ${maxBytes} left`);
  }
  const out = blocks.map((b, i) => {
    let plain: Buffer | string;
    try {
      plain = snappy().uncompressSync(b, { asBuffer: true });
    } catch (err) {
      throw new CompressionError(`snappy: ${(err as Error).message}`);
    }
    if (!Buffer.isBuffer(plain) || plain.length !== stated[i]) throw new CompressionError('snappy: a block does not decompress to the length it states');
    return plain;
  });
  return out.length === 1 ? out[0]! : Buffer.concat(out, total);
}

/** A raw snappy block (as librdkafka sends): for tests and benchmarks. */
export function kafkaSnappyCompress(plain: Buffer): Buffer {
  return snappy().compressSync(plain);
}

/** The xerial framing (as Java clients send) of `plain` cut into blocks of `blockBytes`: for tests. */
export function xerialSnappyCompress(plain: Buffer, blockBytes = 32 * 1024): Buffer {
  const parts: Buffer[] = [XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])];
  for (let pos = 0; pos < plain.length; pos += blockBytes) {
    const block = snappy().compressSync(plain.subarray(pos, pos + blockBytes));
    const len = Buffer.alloc(4);
    len.writeInt32BE(block.length);
    parts.push(len, block);
  }
  return Buffer.concat(parts);
}
