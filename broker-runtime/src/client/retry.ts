/**
 * The client's one retry policy: a budget of retries, exponential backoff with jitter between
 * them, and a per-failure decision (stop, retry now, retry after backoff) made by the caller.
 */

export interface RetryOptions {
  /** Tries after the first one. Default 10. */
  retries?: number;
  /** Backoff before the first retry (before jitter). Default 50 ms. */
  minDelayMs?: number;
  /** Backoff cap. Default 1000 ms. */
  maxDelayMs?: number;
}

export interface RetryPolicy {
  readonly retries: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 10, minDelayMs: 50, maxDelayMs: 1000 };

export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY, ...definedOnly(options) };
  for (const [name, value] of Object.entries(policy)) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`retry.${name} must be a non-negative number; got ${value}`);
  }
  if (policy.maxDelayMs < policy.minDelayMs) {
    throw new RangeError(`retry.maxDelayMs (${policy.maxDelayMs}) must be at least retry.minDelayMs (${policy.minDelayMs})`);
  }
  return policy;
}

/**
 * Wait before retry number `retry` (0 = the first): min·2^retry capped at max, then "equal
 * jitter" — half fixed, half random — so clients that failed together do not retry together.
 */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** Math.min(retry, 30));
  return ceiling / 2 + random() * (ceiling / 2);
}

/** Stop; retry after backoff; retry at once; or retry after the wait the broker asked for (429 Retry-After). */
export type RetryDecision = 'stop' | 'retry' | 'retry-now' | { afterMs: number };

export interface RetryHooks {
  /** What to do after `err` on try number `attempt` (0 = the first). */
  decide(err: unknown, attempt: number): RetryDecision;
  /** The error to throw once the budget is spent, given the last failure and how many tries were made. */
  exhausted(lastErr: unknown, tries: number): Error;
  signal?: AbortSignal;
}

/** Run `attempt` until it succeeds, `decide` says stop (its error is rethrown), or the budget is spent. */
export async function withRetry<T>(policy: RetryPolicy, attempt: (n: number) => Promise<T>, hooks: RetryHooks): Promise<T> {
  let backoffs = 0;
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      const decision = hooks.decide(err, n);
      if (decision === 'stop') throw err;
      if (n >= policy.retries) throw hooks.exhausted(err, n + 1);
      if (decision === 'retry') await sleep(backoffDelay(policy, backoffs++), hooks.signal);
      else if (typeof decision === 'object') await sleep(Math.max(0, decision.afterMs), hooks.signal);
    }
  }
}

/** setTimeout as a promise; rejects with the signal's reason if it is aborted first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function definedOnly(options: RetryOptions): RetryOptions {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}
