import type { YakClient } from '../../../../broker-runtime/src/client/index.js';

/**
 * A YakClient that can be frozen: while frozen, every call it is asked to make waits before it is
 * sent (and so does the member's processing, through `held()`), until thawed — what a consumer
 * process under SIGSTOP does to the cluster: nothing at all. A call already on the wire finishes.
 */
export class FreezableClient {
  private gate: Promise<void> | null = null;
  private open: (() => void) | null = null;

  constructor(private readonly client: YakClient) {}

  get frozen(): boolean {
    return this.gate !== null;
  }

  freeze(): void {
    if (this.gate) return;
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  thaw(): void {
    const open = this.open;
    this.gate = null;
    this.open = null;
    open?.();
  }

  /** Resolves at once, or when the client is thawed. */
  async held(): Promise<void> {
    while (this.gate) await this.gate;
  }

  /** The client as GroupConsumer takes it: each method waits for a thaw before it runs. */
  asYakClient(): YakClient {
    return new Proxy(this.client, {
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          await this.held();
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  }
}
