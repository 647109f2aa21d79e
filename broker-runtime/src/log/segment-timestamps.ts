import type { LogSegment } from './log-segment.js';
import { LENGTH_FIELD_BYTES, recordSizeAt } from './record-codec.js';

/** Where the f64 timestamp sits in an encoded record: after length, crc, offset and epoch (types.ts). */
const TIMESTAMP_AT = LENGTH_FIELD_BYTES + 4 + 8 + 4;
const CHUNK_BYTES = 1 << 20;

/**
 * The largest record timestamp of a (closed) segment, reading the record headers in 1 MiB chunks:
 * what time retention compares against retention.ms (Kafka's largestTimestamp). -Infinity when
 * it holds no records.
 */
export async function largestTimestamp(segment: LogSegment): Promise<number> {
  let largest = Number.NEGATIVE_INFINITY;
  const limit = segment.size;
  let position = 0;
  let want = CHUNK_BYTES;
  segment.retain();
  try {
    while (position < limit) {
      const chunk = await segment.readAt(position, Math.min(want, limit - position));
      if (chunk.length === 0) break;
      let at = 0;
      for (let size = recordSizeAt(chunk, at); size > 0; size = recordSizeAt(chunk, at)) {
        const ts = chunk.readDoubleBE(at + TIMESTAMP_AT);
        if (ts > largest) largest = ts;
        at += size;
      }
      if (at === 0) {
        // One record larger than the chunk: read it whole next time.
        if (chunk.length >= LENGTH_FIELD_BYTES && want < limit - position) {
          want = LENGTH_FIELD_BYTES + chunk.readUInt32BE(0);
          continue;
        }
        break;
      }
      position += at;
      want = CHUNK_BYTES;
    }
  } finally {
    segment.release();
  }
  return largest;
}
