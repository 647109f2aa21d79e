/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of Kafka's RecordBatch v2.
 * node:zlib only has CRC-32 (IEEE); a table-driven CRC-32C is twenty lines, so no dependency.
 * Checked against the RFC 3720 vectors in test/unit/kafka/crc32c.test.ts.
 */
const TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32C of `bytes`, as an unsigned 32-bit number. */
export function crc32c(bytes: Uint8Array): number {
  let crc = -1;
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}
