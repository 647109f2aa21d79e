/** The last lines a process wrote (stdout and stderr interleaved as they arrived). */
export class OutputBuffer {
  private readonly lines: string[] = [];
  private partial = '';

  constructor(private readonly limit = 500) {}

  /** Feeds a chunk; returns the complete lines it finished. */
  write(chunk: string): string[] {
    const text = this.partial + chunk;
    const parts = text.split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    // A process that never writes a newline must not grow the partial line without bound.
    if (this.partial.length > 16_384) {
      parts.push(this.partial);
      this.partial = '';
    }
    for (const line of parts) this.push(line);
    return parts;
  }

  /** A line of our own (start, exit), marked so it cannot be mistaken for the process's output. */
  note(line: string): void {
    this.push(`[yak] ${line}`);
  }

  snapshot(): string[] {
    return this.partial ? [...this.lines, this.partial] : [...this.lines];
  }

  private push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.limit) this.lines.splice(0, this.lines.length - this.limit);
  }
}
