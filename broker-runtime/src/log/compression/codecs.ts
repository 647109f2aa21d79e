import { createRequire } from 'node:module';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CompressionError, DecompressedTooLarge } from './errors.js';
import { lz4FrameBound } from './lz4-frame.js';

/**
 * The codecs a compressed batch can be stored with, under Kafka's ids (the `attributes` bits of a
 * Kafka record batch: none=0, gzip=1, snappy=2, lz4=3, zstd=4), so a Kafka-protocol listener can map
 * them one to one. YAK writes gzip (node:zlib) and lz4 (the `lz4-napi` package: napi-rs over
 * lz4_flex, binaries from the npm registry); snappy and zstd have ids here but no implementation.
 * lz4 was picked over snappy and zstd by measurement (README, Compression).
 *
 * lz4 is stored as one LZ4 block after a u32 little-endian uncompressed size (lz4_flex's
 * size-prepended block), which decompress() checks before anything is allocated. Kafka's own lz4
 * batches use the LZ4 frame format: a Kafka listener converts (lz4-napi reads and writes frames too).
 */

export const CODEC_IDS = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CodecName = keyof typeof CODEC_IDS;
/** The codecs this broker can write and read. */
export const SUPPORTED_CODECS = ['none', 'gzip', 'lz4'] as const;
export type SupportedCodec = (typeof SUPPORTED_CODECS)[number];

/**
 * Largest uncompressed batch (the plain records inside one compressed entry). A batch that claims
 * more is refused before decompressing: a hostile or broken entry cannot make the broker allocate
 * more than this. Larger than any produce request body.
 */
export const MAX_UNCOMPRESSED_BATCH_BYTES = 64 * 1024 * 1024;

export { CompressionError, DecompressedTooLarge };

export interface Codec {
  readonly id: number;
  readonly name: CodecName;
  compress(plain: Buffer): Buffer;
  /** Decompress `data`, which must give exactly `expectedBytes` (<= MAX_UNCOMPRESSED_BATCH_BYTES); throws CompressionError otherwise. */
  decompress(data: Buffer, expectedBytes: number): Buffer;
  /**
   * Kafka's wire form of the codec, as producers send it inside a record batch (gzip: the same
   * gzip stream; lz4: the LZ4 frame format). Nothing states the uncompressed size there, so
   * decompress takes a ceiling and throws DecompressedTooLarge past it, without allocating more.
   */
  readonly kafka: {
    compress(plain: Buffer): Buffer;
    decompress(data: Buffer, maxBytes: number): Buffer;
  };
}

interface Lz4Module {
  compressSync(data: Buffer): Buffer;
  uncompressSync(data: Buffer): Buffer;
  compressFrameSync(data: Buffer): Buffer;
  decompressFrameSync(data: Buffer): Buffer;
}

// Loaded on first use: a broker that never meets lz4 never loads the native binding.
let lz4Module: Lz4Module | undefined;
function lz4(): Lz4Module {
  lz4Module ??= createRequire(import.meta.url)('lz4-napi') as Lz4Module;
  return lz4Module;
}

/** The uncompressed size a size-prepended LZ4 block states (u32 little-endian), or -1 when it is too short to state one. */
export function lz4DeclaredLength(data: Buffer): number {
  return data.length < 4 ? -1 : data.readUInt32LE(0);
}

function checkExpected(name: string, expectedBytes: number): void {
  if (!Number.isSafeInteger(expectedBytes) || expectedBytes < 0 || expectedBytes > MAX_UNCOMPRESSED_BATCH_BYTES) {
    throw new CompressionError(`${name}: a batch of ${expectedBytes} uncompressed bytes is over the ${MAX_UNCOMPRESSED_BATCH_BYTES}-byte limit`);
  }
}

/**
 * gzip at level 1: it compresses on the broker's event loop, and on YAK-like batches of 100-500
 * JSON records level 6 (zlib's and Kafka's default) took 4-10× the CPU of level 1 for about 25%
 * smaller output (ratio ~4.2 against ~3.3; `npm run bench -- --only compression`).
 */
const GZIP_LEVEL = 1;

const gzip: Codec = {
  id: CODEC_IDS.gzip,
  name: 'gzip',
  compress: (plain) => gzipSync(plain, { level: GZIP_LEVEL }),
  decompress(data, expectedBytes) {
    checkExpected('gzip', expectedBytes);
    let out: Buffer;
    try {
      // maxOutputLength stops inflating past the size the entry declared (a zip bomb ends here).
      out = gunzipSync(data, { maxOutputLength: Math.max(1, expectedBytes) });
    } catch (err) {
      throw new CompressionError(`gzip: ${(err as Error).message}`);
    }
    if (out.length !== expectedBytes) throw new CompressionError(`gzip: decompressed to ${out.length} bytes, the batch says ${expectedBytes}`);
    return out;
  },
  kafka: {
    compress: (plain) => gzipSync(plain, { level: GZIP_LEVEL }),
    decompress(data, maxBytes) {
      try {
        // One byte over the ceiling is enough to know it is over: inflating stops there.
        const out = gunzipSync(data, { maxOutputLength: maxBytes + 1 });
        if (out.length > maxBytes) throw new DecompressedTooLarge(`gzip: decompresses past ${maxBytes} bytes`);
        return out;
      } catch (err) {
        if (err instanceof CompressionError) throw err;
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new DecompressedTooLarge(`gzip: decompresses past ${maxBytes} bytes`);
        throw new CompressionError(`gzip: ${(err as Error).message}`);
      }
    },
  },
};

const lz4Codec: Codec = {
  id: CODEC_IDS.lz4,
  name: 'lz4',
  compress: (plain) => lz4().compressSync(plain),
  decompress(data, expectedBytes) {
    checkExpected('lz4', expectedBytes);
    // lz4_flex allocates what the prefix says before decoding (2 GiB took 4 s in a test): checked first.
    const declared = lz4DeclaredLength(data);
    if (declared !== expectedBytes) throw new CompressionError(`lz4: the block says ${declared} uncompressed bytes, the batch says ${expectedBytes}`);
    let out: Buffer;
    try {
      out = lz4().uncompressSync(data);
    } catch (err) {
      throw new CompressionError(`lz4: ${(err as Error).message}`);
    }
    if (out.length !== expectedBytes) throw new CompressionError(`lz4: decompressed to ${out.length} bytes, the batch says ${expectedBytes}`);
    return out;
  },
  kafka: {
    compress: (plain) => lz4().compressFrameSync(plain),
    decompress(data, maxBytes) {
      // The frame's blocks bound its output; checked before lz4_flex allocates or decodes anything.
      const bound = lz4FrameBound(data);
      if (bound > maxBytes) throw new DecompressedTooLarge(`lz4: a frame of up to ${bound} bytes is over the ${maxBytes}-byte limit`);
      try {
        return lz4().decompressFrameSync(data);
      } catch (err) {
        throw new CompressionError(`lz4: ${(err as Error).message}`);
      }
    },
  },
};

const BY_ID = new Map<number, Codec>([
  [gzip.id, gzip],
  [lz4Codec.id, lz4Codec],
]);

/** The codec stored under Kafka id `id`, or undefined for none/unknown/not implemented here. */
export function codecById(id: number): Codec | undefined {
  return BY_ID.get(id);
}

/** The codec called `name` ('none' gives undefined: store plain records). */
export function codecByName(name: SupportedCodec): Codec | undefined {
  return name === 'none' ? undefined : BY_ID.get(CODEC_IDS[name]);
}

export function isSupportedCodec(value: unknown): value is SupportedCodec {
  return typeof value === 'string' && (SUPPORTED_CODECS as readonly string[]).includes(value);
}
