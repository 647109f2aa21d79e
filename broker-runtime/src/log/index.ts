/** The storage layer: partitioned, segmented, checksummed logs on disk. */
export type * from './types.js';
export { openLogManager, partitionDir, FileLogManager, TOPICS_FILE, TOPICS_DIR } from './log-manager.js';
export { FilePartitionLog } from './partition-log.js';
export { openPartitionLog, highWatermarkAtOpen, loadState, type OpenOptions, type HighWatermarkAtOpen } from './log-loader.js';
export { HIGH_WATERMARK_FILE } from './high-watermark.js';
export { LeaderEpochCache, endOffsetForEpoch, epochAt, reconcileEpochCache, EPOCH_CHECKPOINT_FILE, type EpochEndOffset } from './leader-epoch-cache.js';
export { checkIntegrity, type IntegrityResult } from './integrity.js';
export { UncleanMarker, UNCLEAN_FILE, type UncleanState } from './unclean-marker.js';
export { scanSegmentFile, type SegmentScan } from './segment-scan.js';
export { LogSegment, segmentFileName, parseSegmentFileName } from './log-segment.js';
export { OffsetIndex, INDEX_ENTRY_BYTES } from './offset-index.js';
export {
  encodeRecords,
  decodeRecords,
  decodeRecordAt,
  scanRecords,
  validateBatch,
  recordSizeAt,
  InvalidBatchError,
  MAX_RECORD_LENGTH,
  RECORD_OVERHEAD_BYTES,
  type BatchSummary,
  type ScanResult,
  type ScanStop,
  // Compressed batches (one entry covering several offsets) and the codecs, under Kafka's ids.
  COMPRESSED_KEY_LENGTH,
  encodeCompressedBatch,
  decompressEntryAt,
  expandEntries,
  isCompressedAt,
  isMultiEntryAt,
  isGapAt,
  encodeGap,
  entryCountAt,
  entryEndOffsetAt,
  type ExpandedRecords,
} from './record-codec.js';
export * from './compression/index.js';
