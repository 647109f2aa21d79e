/** Compressed bytes that do not decompress to what their entry says. */
export class CompressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CompressionError';
  }
}

/** Compressed bytes that would decompress to more than the caller allows (a zip bomb, or just too big). */
export class DecompressedTooLarge extends CompressionError {
  constructor(message: string) {
    super(message);
    this.name = 'DecompressedTooLarge';
  }
}
