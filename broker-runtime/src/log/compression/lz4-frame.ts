import { CompressionError } from './errors.js';

/**
 * The LZ4 frame format (lz4's doc/lz4_Frame_format.md), the one Kafka's lz4 batches use, read only
 * as far as needed to bound what decompressing it can produce: a frame states its block size
 * (64 KiB–4 MiB) and every block decompresses to at most that, so the sum over its blocks is a true
 * upper bound, known before anything is decompressed. (The optional content size is a claim, not a
 * bound, so it is not trusted.)
 *
 *   u32le magic 0x184D2204, FLG, BD, [u64le content size], [u32le dictionary id], HC,
 *   blocks: u32le size (high bit = stored uncompressed, 0 = end mark), data, [u32le block checksum],
 *   [u32le content checksum]
 */
const MAGIC = 0x184d2204;
const BLOCK_MAX = new Map<number, number>([
  [4, 64 * 1024],
  [5, 256 * 1024],
  [6, 1024 * 1024],
  [7, 4 * 1024 * 1024],
]);

/** The most bytes `frame` can decompress to; throws CompressionError when it is not one well-formed frame. */
export function lz4FrameBound(frame: Buffer): number {
  const fail = (why: string): never => {
    throw new CompressionError(`lz4 frame: ${why}`);
  };
  if (frame.length < 7) fail(`${frame.length} bytes is too short for a frame header`);
  if (frame.readUInt32LE(0) !== MAGIC) fail(`magic 0x${frame.readUInt32LE(0).toString(16)} (0x184d2204 expected)`);
  const flg = frame[4]!;
  if (flg >> 6 !== 1) fail(`version ${flg >> 6} (1 expected)`);
  const blockChecksums = (flg & 0x10) !== 0;
  const contentSize = (flg & 0x08) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  const dictionary = (flg & 0x01) !== 0;
  const blockMax = BLOCK_MAX.get((frame[5]! >> 4) & 0x07) ?? fail(`block size id ${(frame[5]! >> 4) & 0x07}`);
  let position = 6 + (contentSize ? 8 : 0) + (dictionary ? 4 : 0) + 1;
  let bound = 0;
  for (;;) {
    if (position + 4 > frame.length) fail('cut short before its end mark');
    const word = frame.readUInt32LE(position);
    position += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    const stored = word !== size;
    if (size > blockMax) fail(`a block of ${size} bytes in a frame of ${blockMax}-byte blocks`);
    position += size + (blockChecksums ? 4 : 0);
    if (position > frame.length) fail('a block runs past the end');
    bound += stored ? size : blockMax;
  }
  if (contentChecksum) position += 4;
  if (position !== frame.length) fail(`${frame.length - position} byte(s) where the frame should end`);
  return bound;
}
