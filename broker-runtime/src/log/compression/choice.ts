import { SUPPORTED_CODECS, type SupportedCodec } from './codecs.js';

/** A topic's `compression.type` (Kafka's name and default): a codec, or `producer` = keep the producer's choice. */
export const COMPRESSION_TYPES = [...SUPPORTED_CODECS, 'producer'] as const;
export type CompressionType = (typeof COMPRESSION_TYPES)[number];

/**
 * The codec a batch is stored with: the topic's, unless the topic leaves it to the producer
 * (`producer`, the default), then the producer's (`none` when it named none).
 */
export function compressionFor(topicType: CompressionType | undefined, producer: SupportedCodec | undefined): SupportedCodec {
  const t = topicType ?? 'producer';
  return t === 'producer' ? (producer ?? 'none') : t;
}
