/**
 * A request that does not parse: truncated, a length or count past the frame, a varint too long.
 * The connection that sent it is closed; nothing it asked for was done (requests are decoded whole
 * before any of them acts).
 */
export class KafkaDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KafkaDecodeError';
  }
}
