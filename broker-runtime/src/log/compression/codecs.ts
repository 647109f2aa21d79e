import { createRequire } from 'node:module';
import { gunzipSync, gzipSync } from 'node:zlib';

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

/** Compressed bytes that do not decompress to what their entry says. */
export class CompressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CompressionError';
  }
}

export interface Codec {
  readonly id: number;
  readonly name: CodecName;
  compress(plain: Buffer): Buffer;
  /** Decompress `data`, which must give exactly `expectedBytes` (<= MAX_UNCOMPRESSED_BATCH_BYTES); throws CompressionError otherwise. */
  decompress(data: Buffer, expectedBytes: number): Buffer;
}

interface Lz4Module {
  compressSync(data: Buffer): Buffer;
  uncompressSync(data: Buffer): Buffer;
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
