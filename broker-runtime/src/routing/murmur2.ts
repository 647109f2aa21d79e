/**
 * Kafka's murmur2 hash, bit for bit (org.apache.kafka.common.utils.Utils.murmur2), so that a key
 * lands on the partition Kafka's default partitioner would choose.
 *
 * Java ints are signed 32-bit with wrapping multiplication; here Math.imul gives the wrapping
 * multiply, `>>>` is Java's unsigned shift, and `| 0` keeps every intermediate a signed int32.
 */
const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/** murmur2 of the bytes, as Java's signed 32-bit int (may be negative). */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const whole = length & ~3;

  for (let i = 0; i < whole; i += 4) {
    // Little-endian 4-byte chunk. Indices are in range by construction.
    let k = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) | 0;
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }

  // Kafka's tail is a switch with fallthrough (3 -> 2 -> 1); written as ifs for the same effect.
  const tail = length & 3;
  if (tail >= 3) h ^= data[whole + 2]! << 16;
  if (tail >= 2) h ^= data[whole + 1]! << 8;
  if (tail >= 1) {
    h ^= data[whole]!;
    h = Math.imul(h, M);
  }

  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's Utils.toPositive: clears the sign bit (not Math.abs, which overflows on MIN_VALUE). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}
