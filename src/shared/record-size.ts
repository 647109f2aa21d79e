/**
 * A record's size as the broker measures it (broker-runtime/src/http/validate.ts recordBytes):
 * the payload's JSON text + the key + the headers' JSON text (nothing when there are none), in
 * UTF-8 bytes. Over MAX_RECORD_BYTES (the broker's default --max-message-bytes, 1 MiB) the broker
 * answers 413 MESSAGE_TOO_LARGE; the desktop API refuses the same way before sending, and the
 * producer form shows the size while it is typed.
 */
export const MAX_RECORD_BYTES = 1_048_576;

const encoder = new TextEncoder();

export function utf8Bytes(text: string): number {
  return encoder.encode(text).length;
}

export function recordBytes(payloadJson: string, key: string | null | undefined, headers: Record<string, string> | undefined): number {
  let size = utf8Bytes(payloadJson);
  if (key !== null && key !== undefined) size += utf8Bytes(key);
  if (headers && Object.keys(headers).length > 0) size += utf8Bytes(JSON.stringify(headers));
  return size;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}
