import type { YakClient } from '../broker-runtime/src/client/index.js';

/** What a call of a killed member's client rejects with. */
export class MemberKilledError extends Error {
  constructor() {
    super('the group member was killed by the nemesis');
    this.name = 'MemberKilledError';
  }
}

/**
 * The client of one group member, as the nemesis can hit it. Frozen: every call it is asked to make
 * (heartbeats, fetches, commits) waits before it is sent, and so does the member's processing
 * (through `held()`) — a consumer process under SIGSTOP, which the cluster hears nothing from, until
 * thawed. Killed: every call and every processing step fails at once and for good — a SIGKILLed
 * consumer, which sends no LeaveGroup and commits nothing more. A call already on the wire finishes
 * in both cases, as it would from a real process. (The app's src/main/supervisor/clients/freezable-client.ts
 * freezes a member the same way.)
 */
export class MemberClient {
  private gate: Promise<void> | null = null;
  private open: (() => void) | null = null;
  private dead = false;

  get frozen(): boolean {
    return this.gate !== null;
  }

  get killed(): boolean {
    return this.dead;
  }

  freeze(): void {
    if (this.gate || this.dead) return;
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  thaw(): void {
    const open = this.open;
    this.gate = null;
    this.open = null;
    open?.();
  }

  /** From now on every call fails; calls waiting on a freeze wake up and fail too. */
  kill(): void {
    this.dead = true;
    this.thaw();
  }

  /** Resolves at once or when thawed; throws MemberKilledError once killed. */
  async held(): Promise<void> {
    while (this.gate) await this.gate;
    if (this.dead) throw new MemberKilledError();
  }

  /** `client` as a GroupConsumer takes it: each method waits for `held()` before it runs. */
  wrap(client: YakClient): YakClient {
    return new Proxy(client, {
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
