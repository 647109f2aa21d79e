/**
 * What happened, in simulated time: every line when tracing, else the last few hundred, so a
 * failure can always show how it came about.
 */
export class Trace {
  private readonly lines: string[] = [];
  private dropped = 0;

  constructor(
    private readonly all: boolean,
    private readonly now: () => number,
    private readonly keep = 400,
  ) {}

  add(line: string): void {
    this.lines.push(`${this.now().toFixed(1).padStart(10)} ms  ${line}`);
    if (!this.all && this.lines.length > this.keep) {
      this.lines.shift();
      this.dropped++;
    }
  }

  text(): string {
    return (this.dropped ? `… ${this.dropped} earlier lines (replay with --trace for all)\n` : '') + this.lines.join('\n');
  }
}
