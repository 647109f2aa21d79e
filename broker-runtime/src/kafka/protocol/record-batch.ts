import { CODEC_IDS, codecById, CompressionError, DecompressedTooLarge, MAX_UNCOMPRESSED_BATCH_BYTES, type Codec, type SupportedCodec } from '../../log/compression/index.js';
import { crc32c } from './crc32c.js';
import { kafkaSnappyDecompress } from './snappy.js';
import { KafkaDecodeError } from './decode-error.js';
import { KafkaError } from './error-codes.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';

/**
 * RecordBatch v2 (magic 2), Kafka's record format since 0.11 (the one with headers):
 *
 *   int64 baseOffset, int32 batchLength, int32 partitionLeaderEpoch, int8 magic (2),
 *   uint32 crc (CRC-32C of everything after it), int16 attributes, int32 lastOffsetDelta,
 *   int64 baseTimestamp, int64 maxTimestamp, int64 producerId, int16 producerEpoch,
 *   int32 baseSequence, int32 count, then `count` records:
 *     varint length, int8 attributes, varlong timestampDelta, varint offsetDelta,
 *     varint keyLength (-1 null), key, varint valueLength (-1 null), value,
 *     varint headerCount, per header: varint keyLength, key, varint valueLength (-1 null), value
 */

export const MAGIC_V2 = 2;
/** Bytes before the records: the fixed fields listed above. */
export const BATCH_OVERHEAD = 61;
const CRC_AT = 17;
const ATTRIBUTES_AT = 21;
const COMPRESSION_MASK = 0x07;
const TIMESTAMP_TYPE_LOG_APPEND = 0x08;
const CONTROL_FLAG = 0x20;

export interface KafkaHeader {
  key: Buffer;
  value: Buffer | null;
}

export interface KafkaRecord {
  /** The record's own timestamp (batch base + delta; broker time under LogAppendTime). */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: KafkaHeader[];
}

export interface DecodedBatch {
  baseOffset: number;
  /** The idempotent producer's id, epoch and first sequence (-1, -1, -1 from a producer without idempotence). */
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  /** The codec the producer compressed the batch with ('none' when it did not). */
  codec: SupportedCodec;
  records: KafkaRecord[];
}

/**
 * How many uncompressed bytes decoding may still produce: one budget per request, shared by its
 * partitions, so a request of small compressed batches cannot make the broker hold gigabytes.
 */
export interface DecompressionBudget {
  left: number;
}

export function requestBudget(): DecompressionBudget {
  return { left: MAX_UNCOMPRESSED_BATCH_BYTES };
}

/**
 * The batches of one partition of a Produce request. Refusals are KafkaErrors with Kafka's code:
 * CORRUPT_MESSAGE for a bad CRC, a length past the data, compressed bytes or a record that do not
 * parse; UNSUPPORTED_FOR_MESSAGE_FORMAT for magic 0/1; UNSUPPORTED_COMPRESSION_TYPE for zstd (gzip
 * and lz4 are decoded with the storage codecs, log/compression/, snappy by protocol/snappy.ts); MESSAGE_TOO_LARGE for
 * batches that decompress past the budget (refused before or while inflating, never after
 * allocating it all); INVALID_RECORD for control batches. Nothing is stored for a refusal.
 */
export function decodeBatches(bytes: Buffer, nowMs: number, budget: DecompressionBudget = requestBudget()): DecodedBatch[] {
  const out: DecodedBatch[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    if (bytes.length - pos < 12) throw new KafkaError('CORRUPT_MESSAGE', `a record batch is cut short at byte ${pos}`);
    const batchLength = bytes.readInt32BE(pos + 8);
    const end = pos + 12 + batchLength;
    if (batchLength < BATCH_OVERHEAD - 12 || end > bytes.length) throw new KafkaError('CORRUPT_MESSAGE', `a record batch claims ${batchLength} bytes, ${bytes.length - pos - 12} follow`);
    const batch = bytes.subarray(pos, end);
    const magic = batch.readInt8(16);
    if (magic !== MAGIC_V2) throw new KafkaError('UNSUPPORTED_FOR_MESSAGE_FORMAT', `record batch magic ${magic}: only v2 (magic 2) batches are accepted`);
    const crc = batch.readUInt32BE(CRC_AT);
    if (crc32c(batch.subarray(ATTRIBUTES_AT)) !== crc) throw new KafkaError('CORRUPT_MESSAGE', 'record batch CRC-32C does not match its bytes');
    out.push(decodeBatch(batch, nowMs, budget));
    pos = end;
  }
  if (out.length === 0) throw new KafkaError('CORRUPT_MESSAGE', 'no record batch in the partition data');
  return out;
}

function decodeBatch(batch: Buffer, nowMs: number, budget: DecompressionBudget): DecodedBatch {
  let r = new Reader(batch);
  try {
    const baseOffset = r.int64();
    r.int32(); // batchLength, checked by the caller
    r.int32(); // partitionLeaderEpoch: the broker stamps its own
    r.int8(); // magic
    r.uint32(); // crc, checked by the caller
    const attributes = r.int16();
    const codecId = attributes & COMPRESSION_MASK;
    // snappy is decoded here only (protocol/snappy.ts); YAK stores no snappy.
    const snappy = codecId === CODEC_IDS.snappy;
    const codec = codecId === CODEC_IDS.none || snappy ? undefined : codecById(codecId);
    if (codecId !== CODEC_IDS.none && !snappy && !codec) {
      throw new KafkaError('UNSUPPORTED_COMPRESSION_TYPE', `compression codec ${codecId} is not supported: produce with compression.type gzip, snappy, lz4 or none`);
    }
    if (attributes & CONTROL_FLAG) throw new KafkaError('INVALID_RECORD', 'control batches (transactions) are not supported');
    const logAppendTime = (attributes & TIMESTAMP_TYPE_LOG_APPEND) !== 0;
    r.int32(); // lastOffsetDelta
    const baseTimestamp = r.int64();
    r.int64(); // maxTimestamp
    const producerId = r.int64();
    const producerEpoch = r.int16();
    const baseSequence = r.int32();
    const count = r.int32();
    if (codec) r = new Reader(inflate(codec.kafka.decompress, batch.subarray(BATCH_OVERHEAD), budget));
    else if (snappy) r = new Reader(inflate(kafkaSnappyDecompress, batch.subarray(BATCH_OVERHEAD), budget));
    if (count < 0 || count > r.remaining()) throw new KafkaError('CORRUPT_MESSAGE', `record count ${count} with ${r.remaining()} byte(s) left`);
    const records = new Array<KafkaRecord>(count);
    for (let i = 0; i < count; i++) {
      const length = r.varint();
      if (length < 0 || length > r.remaining()) throw new KafkaError('CORRUPT_MESSAGE', `record ${i} claims ${length} bytes`);
      const start = r.offset;
      r.int8(); // record attributes: unused
      const tsDelta = r.varlong();
      r.varint(); // offsetDelta: the broker assigns offsets
      const key = varBytes(r);
      const value = varBytes(r);
      const headerCount = r.varint();
      if (headerCount < 0 || headerCount > r.remaining()) throw new KafkaError('CORRUPT_MESSAGE', `record ${i} claims ${headerCount} headers`);
      const headers = new Array<KafkaHeader>(headerCount);
      for (let h = 0; h < headerCount; h++) {
        const hk = varBytes(r);
        if (hk === null) throw new KafkaError('CORRUPT_MESSAGE', `record ${i} has a header with a null key`);
        headers[h] = { key: hk, value: varBytes(r) };
      }
      if (r.offset - start !== length) throw new KafkaError('CORRUPT_MESSAGE', `record ${i} is ${r.offset - start} bytes, its length says ${length}`);
      const ts = baseTimestamp + tsDelta;
      records[i] = { timestamp: logAppendTime || !(ts >= 0) ? nowMs : ts, key, value, headers };
    }
    if (r.remaining() !== 0) throw new KafkaError('CORRUPT_MESSAGE', `${r.remaining()} byte(s) after the last record of a batch`);
    // A snappy batch is kept uncompressed where the producer's codec applies (protocol/snappy.ts says why).
    return { baseOffset, producerId, producerEpoch, baseSequence, codec: (codec?.name ?? 'none') as SupportedCodec, records };
  } catch (err) {
    if (err instanceof KafkaDecodeError) throw new KafkaError('CORRUPT_MESSAGE', `record batch does not parse: ${err.message}`);
    throw err;
  }
}

/** The records section of a compressed batch, decompressed within the request's budget. */
function inflate(decompress: (data: Buffer, maxBytes: number) => Buffer, data: Buffer, budget: DecompressionBudget): Buffer {
  try {
    const plain = decompress(data, budget.left);
    budget.left -= plain.length;
    return plain;
  } catch (err) {
    if (err instanceof DecompressedTooLarge) throw new KafkaError('MESSAGE_TOO_LARGE', `${err.message}: a request decompresses to at most ${MAX_UNCOMPRESSED_BATCH_BYTES} bytes in all`);
    if (err instanceof CompressionError) throw new KafkaError('CORRUPT_MESSAGE', `compressed records do not decompress: ${err.message}`);
    throw err;
  }
}

function varBytes(r: Reader): Buffer | null {
  const n = r.varint();
  if (n < -1) throw new KafkaDecodeError(`length ${n}`);
  return n === -1 ? null : r.raw(n);
}

export interface OutgoingRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: KafkaHeader[];
}

/**
 * One uncompressed v2 batch of `records` (consecutive offsets, at least one), stamped with the
 * leader epoch that wrote them. Not transactional, not idempotent: producerId -1.
 */
export function encodeBatch(records: readonly OutgoingRecord[], partitionLeaderEpoch: number, w: Writer = new Writer(256)): Writer {
  const first = records[0]!;
  const baseOffset = first.offset;
  const baseTimestamp = first.timestamp;
  let maxTimestamp = baseTimestamp;
  for (const r of records) if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp;
  const at = writeBatchHeader(w, { baseOffset, lastOffset: records[records.length - 1]!.offset, partitionLeaderEpoch, baseTimestamp, maxTimestamp, count: records.length });
  const body = new Writer(128);
  for (const r of records) {
    body.int8(0);
    body.varlong(r.timestamp - baseTimestamp);
    body.varint(r.offset - baseOffset);
    writeVarBytes(body, r.key);
    writeVarBytes(body, r.value);
    body.varint(r.headers.length);
    for (const h of r.headers) {
      writeVarBytes(body, h.key);
      writeVarBytes(body, h.value);
    }
    w.varint(body.length);
    w.raw(body.view());
    body.reset();
  }
  return finishBatch(w, at);
}

interface BatchHeader {
  baseOffset: number;
  lastOffset: number;
  partitionLeaderEpoch: number;
  baseTimestamp: number;
  maxTimestamp: number;
  count: number;
}

/**
 * A v2 batch header for an uncompressed, non-transactional batch with no producer (id -1), the
 * length and CRC left as zeros for finishBatch to patch once the records are written after it.
 */
function writeBatchHeader(w: Writer, h: BatchHeader): { lengthAt: number; crcAt: number } {
  w.int64(h.baseOffset);
  const lengthAt = w.length;
  w.int32(0);
  w.int32(h.partitionLeaderEpoch);
  w.int8(MAGIC_V2);
  const crcAt = w.length;
  w.uint32(0);
  w.int16(0); // attributes: no compression, not transactional, not a control batch
  w.int32(h.lastOffset - h.baseOffset);
  w.int64(h.baseTimestamp);
  w.int64(h.maxTimestamp);
  w.int64(-1); // producer id
  w.int16(-1); // producer epoch
  w.int32(-1); // base sequence
  w.int32(h.count);
  return { lengthAt, crcAt };
}

/** Patches the batch length and the CRC-32C (over everything after the CRC field). */
function finishBatch(w: Writer, at: { lengthAt: number; crcAt: number }): Writer {
  w.patchInt32(at.lengthAt, w.length - at.lengthAt - 4);
  w.patchUint32(at.crcAt, crc32c(w.view(at.crcAt + 4)));
  return w;
}

function writeVarBytes(w: Writer, b: Buffer | null): void {
  if (b === null) w.varint(-1);
  else w.varint(b.length).raw(b);
}

/**
 * A batch holding no records that covers offsets [baseOffset, lastOffset]: what Kafka answers where
 * log compaction removed every record of a range, so consumers (Java's, librdkafka) move their
 * fetch position past it (to lastOffset + 1) instead of asking for the same offset forever.
 */
export function encodeEmptyBatch(baseOffset: number, lastOffset: number, partitionLeaderEpoch: number, timestamp: number, w: Writer = new Writer(64)): Writer {
  const at = writeBatchHeader(w, { baseOffset, lastOffset, partitionLeaderEpoch, baseTimestamp: timestamp, maxTimestamp: timestamp, count: 0 });
  return finishBatch(w, at);
}
