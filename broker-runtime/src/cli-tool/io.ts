import type { Readable, Writable } from 'node:stream';

/** What a command may touch of the process: its streams and environment (tests pass their own). */
export interface Io {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
}

/** stdout went away (`yak consume t | head -1`): not an error, the reader has what it wanted. */
export class OutputClosed extends Error {
  constructor() {
    super('stdout was closed');
    this.name = 'OutputClosed';
  }
}

/**
 * Writes to a stream with backpressure: waits for 'drain' when the stream's buffer is full, so a
 * consume of a million records does not hold them all in memory. EPIPE becomes OutputClosed.
 */
export class Output {
  private closed = false;
  private failure: Error | null = null;

  constructor(private readonly stream: Writable) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') this.closed = true;
      else this.failure = err;
    });
  }

  async write(text: string): Promise<void> {
    this.check();
    if (text.length === 0 || this.stream.write(text)) return;
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        this.stream.off('drain', onDrain);
        this.stream.off('error', onError);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => done();
      const onError = () => done(this.closed ? new OutputClosed() : (this.failure ?? new OutputClosed()));
      this.stream.on('drain', onDrain);
      this.stream.on('error', onError);
    });
  }

  private check(): void {
    if (this.closed) throw new OutputClosed();
    if (this.failure) throw this.failure;
  }
}

/** Rows as aligned columns, two spaces apart (the last column is not padded). */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ') + '\n').join('');
}
