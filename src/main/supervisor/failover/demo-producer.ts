/** The topic the demo producer writes to during a failover. */
export const DEMO_TOPIC = 'yak-demo';

export type ProduceOnce = (payload: unknown, key: string) => Promise<void>;

/**
 * A steady trickle of records during a failover, so the timeline shows the gap in which nothing
 * could commit. One record at a time: the next is sent `intervalMs` after the previous answered
 * (`retryDelayMs` after a failure), so records never pile up behind one another.
 */
export class DemoProducer {
  private running = false;
  private seq = 0;
  sent = 0;
  failed = 0;

  constructor(
    private readonly produce: ProduceOnce,
    private readonly intervalMs = 100,
    /** After a failed try: soon, so the first commit after a failover is seen when it happens. */
    private readonly retryDelayMs = 20,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.run();
  }

  /** Stops after the record in flight (not awaited: a retried record may take seconds). */
  stop(): void {
    this.running = false;
  }

  get active(): boolean {
    return this.running;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const seq = ++this.seq;
      let ok = false;
      try {
        await this.produce({ demo: true, seq, sentAt: Date.now() }, `demo-${seq % 8}`);
        this.sent++;
        ok = true;
      } catch {
        this.failed++;
      }
      if (this.running) await new Promise((r) => setTimeout(r, ok ? this.intervalMs : this.retryDelayMs));
    }
  }
}
