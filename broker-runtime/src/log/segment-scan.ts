import { open, type FileHandle } from 'node:fs/promises';
import {
  LENGTH_FIELD_BYTES,
  MAX_RECORD_LENGTH,
  MIN_RECORD_LENGTH,
  recordCrcMatches,
  recordOffsetAt,
  scanRecords,
  type ScanStop,
} from './record-codec.js';
import type { EpochEntry } from './types.js';

/** Bytes read at a time. */
const WINDOW_BYTES = 4 << 20;
/** How far past a bad record to look for a valid one: more than any record the broker accepts. */
const RESYNC_BYTES = 8 << 20;

/** Where a segment file stops holding a clean run of records. */
export interface FirstFault {
  /** Byte position of the first bad record. */
  position: number;
  /** The offset that record should have had. */
  offset: number;
  stop: Exclude<ScanStop, 'end'>;
}

export interface SegmentScan {
  size: number;
  /** The first place the records stop being valid, if any. */
  fault?: FirstFault;
  /** A record with a good CRC was found after the fault: the damage is in the middle, not a torn tail. */
  validAfterFault: boolean;
  /** One past the highest offset of any valid record in the file (before or after a fault); the base when none. */
  endOffset: number;
  /** One past the last record of the clean run from the start (= the fault's offset when there is one). */
  cleanEndOffset: number;
  /** The clean run's first epoch and every later change (as the epoch cache holds them). */
  epochs: EpochEntry[];
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await handle.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === length ? buf : buf.subarray(0, got);
}

/**
 * Walk a segment file checking every CRC and that offsets run on from `baseOffset`. At the first
 * bad record, look further for a record whose CRC holds (resynchronising byte by byte): finding one
 * tells a flipped bit in the middle of the data from a write torn at the end, which looks the same
 * at the point of failure. Read-only.
 */
export async function scanSegmentFile(path: string, baseOffset: number): Promise<SegmentScan> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    let pos = 0;
    let expected = baseOffset;
    let window = WINDOW_BYTES;
    let fault: FirstFault | undefined;
    let validAfterFault = false;
    let endOffset = baseOffset;
    const epochs: EpochEntry[] = [];
    while (pos < size) {
      const chunk = await readAt(handle, pos, Math.min(window, size - pos));
      const scan = scanRecords(chunk, {
        expectedOffset: expected,
        onRecord: (_p, _s, offset, epoch, n) => {
          endOffset = Math.max(endOffset, offset + n);
          if (!fault && epoch !== epochs[epochs.length - 1]?.epoch) epochs.push({ epoch, startOffset: offset });
        },
      });
      if (fault && scan.count > 0) validAfterFault = true;
      pos += scan.validBytes;
      expected = scan.nextOffset;
      window = WINDOW_BYTES;
      if (scan.stop === 'end') continue;
      const cutByWindow = (scan.stop === 'torn-length' || scan.stop === 'past-end') && pos + scan.needBytes <= size && scan.validBytes + scan.needBytes > chunk.length;
      if (cutByWindow) {
        window = Math.max(WINDOW_BYTES, scan.needBytes);
        continue;
      }
      fault ??= { position: pos, offset: expected, stop: scan.stop };
      const next = await resync(handle, size, pos + 1, expected);
      if (!next) break;
      validAfterFault = true;
      pos = next.position;
      expected = next.offset;
    }
    return { size, ...(fault && { fault }), validAfterFault, endOffset, cleanEndOffset: fault ? fault.offset : expected, epochs };
  } finally {
    await handle.close();
  }
}

/** The first position at or after `from` holding a whole record with a good CRC and an offset >= minOffset. */
async function resync(handle: FileHandle, size: number, from: number, minOffset: number): Promise<{ position: number; offset: number } | undefined> {
  const end = Math.min(size, from + RESYNC_BYTES);
  if (from >= end) return undefined;
  const buf = await readAt(handle, from, end - from);
  for (let p = 0; p + LENGTH_FIELD_BYTES + MIN_RECORD_LENGTH <= buf.length; p++) {
    const length = buf.readUInt32BE(p);
    if (length < MIN_RECORD_LENGTH || length > MAX_RECORD_LENGTH || p + LENGTH_FIELD_BYTES + length > buf.length) continue;
    const offset = recordOffsetAt(buf, p);
    if (offset < minOffset || offset > minOffset + 2 ** 32) continue;
    if (recordCrcMatches(buf, p, LENGTH_FIELD_BYTES + length)) return { position: from + p, offset };
  }
  return undefined;
}
