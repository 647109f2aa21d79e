import { crc32 } from 'node:zlib';

/**
 * Checksums of the small checkpoint files of a partition folder (the high-water mark, the log
 * start offset, the leader-epoch cache, the unclean mark), the CRC-32 the records use. A flipped
 * digit in a checkpoint is a value that looks written on purpose: the loader acts on it (a
 * high-water mark or an epoch start past the log end reads as committed records lost, and kept a
 * replica from leading for good). The checksum tells a damaged file from a written one; each
 * reader then falls back to what cannot lose or expose a record.
 */

/** A number checkpoint as written: `v1 <value> <crc32 of the value's digits>`, one line. */
export function checkedNumberText(value: number): string {
  return `v1 ${value} ${crc32(String(value))}\n`;
}

const CHECKED = /^v1 (\d{1,16}) (\d{1,10})$/;
const BARE = /^\d{1,16}$/;

/**
 * A number checkpoint read back: `checked` (its checksum matched), `bare` (a number alone, the
 * format before the checksum: nothing tells a damaged one from a written one) or `damaged` (a
 * checksum that does not match, or text that is neither form).
 */
export type NumberCheckpoint = { form: 'checked' | 'bare'; value: number } | { form: 'damaged' };

export function parseCheckedNumber(text: string): NumberCheckpoint {
  const trimmed = text.trim();
  const checked = CHECKED.exec(trimmed);
  if (checked) {
    const value = Number(checked[1]);
    return Number.isSafeInteger(value) && crc32(String(value)) === Number(checked[2]) ? { form: 'checked', value } : { form: 'damaged' };
  }
  if (BARE.test(trimmed)) {
    const value = Number(trimmed);
    if (Number.isSafeInteger(value)) return { form: 'bare', value };
  }
  return { form: 'damaged' };
}

/** The checksum a JSON checkpoint stores beside `value` (its `crc32` field): CRC-32 of JSON.stringify(value). */
export function jsonChecksum(value: unknown): number {
  return crc32(JSON.stringify(value));
}
