export {
  CODEC_IDS,
  SUPPORTED_CODECS,
  MAX_UNCOMPRESSED_BATCH_BYTES,
  CompressionError,
  DecompressedTooLarge,
  codecById,
  codecByName,
  isSupportedCodec,
  lz4DeclaredLength,
  type Codec,
  type CodecName,
  type SupportedCodec,
} from './codecs.js';
export { compressionFor, COMPRESSION_TYPES, type CompressionType } from './choice.js';
