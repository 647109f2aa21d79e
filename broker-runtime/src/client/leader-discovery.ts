import { type Attempt, YakClientError, outcome } from './errors.js';
import { type Connection, exchange } from './transport.js';
import type { LeaderAnswer } from './types.js';

export interface Discovery {
  /** The leader's URL, or null when no seed named a reachable one. */
  url: string | null;
  /** Every seed asked and what it said (winners excepted). */
  attempts: Attempt[];
  /** A seed's 401 or 403, or a TLS failure: no point asking again with the same token or certificates. */
  refusal?: YakClientError;
}

/** After the first seed names a leader, how long to wait for the others: the highest epoch wins. */
const GRACE_MS = 100;

/**
 * Finds the leader by asking every seed's GET /metadata/leader at once (and every broker a seed or
 * a 421 named when it knew no leader). The leader named with the highest epoch among the answers
 * in by GRACE_MS after the first one wins, so a broker that is cut from Redis and still names an
 * old leader does not send the client back to it; the others are cancelled. Concurrent callers
 * share one search in flight, so a failover does not turn every pending request into a round of
 * seed queries.
 */
export class LeaderDiscovery {
  private inFlight: Promise<Discovery> | null = null;
  /** Brokers learned from answers that named no leader, asked beside the seeds. */
  private readonly learned = new Set<string>();

  constructor(
    private readonly seeds: readonly string[],
    private readonly timeoutMs: number,
    private readonly normalise: (url: string) => string,
    private readonly connection: Connection = {},
  ) {}

  /** Ask these brokers too from the next search on (URLs a broker that knew no leader named). */
  learn(brokers: unknown): void {
    if (!Array.isArray(brokers)) return;
    for (const b of brokers.slice(0, 64)) {
      const url = (b as { url?: unknown } | null)?.url;
      if (typeof url !== 'string') continue;
      try {
        const normal = this.normalise(url);
        if (!this.seeds.includes(normal)) this.learned.add(normal);
      } catch {
        // not a broker URL: ignore it
      }
    }
  }

  /** The shared search; `signal` lets one caller stop waiting without cancelling it for the others. */
  find(signal?: AbortSignal): Promise<Discovery> {
    this.inFlight ??= this.search().finally(() => {
      this.inFlight = null;
    });
    return signal ? untilAborted(this.inFlight, signal) : this.inFlight;
  }

  private async search(): Promise<Discovery> {
    const attempts: Attempt[] = [];
    let refusal: YakClientError | undefined;
    const race = new AbortController();
    const targets = [...this.seeds, ...this.learned];
    let best: { url: string; epoch: number } | null = null;
    let settle = () => {};
    const settled = new Promise<void>((resolve) => (settle = resolve));
    let grace: NodeJS.Timeout | null = null;
    let pending = targets.length;
    const ask = async (seed: string): Promise<void> => {
      try {
        const answer = await exchange<LeaderAnswer>(seed, { method: 'GET', path: '/metadata/leader', signal: race.signal }, this.timeoutMs, this.connection);
        const url = answer.leader?.url;
        if (typeof url !== 'string') {
          this.learn(answer.brokers);
          throw new YakClientError('NO_LEADER', 0, `${seed} knows no leader yet (epoch ${answer.epoch})`, true);
        }
        const epoch = typeof answer.epoch === 'number' ? answer.epoch : 0;
        const named = this.normalise(url);
        if (!best || epoch > best.epoch) best = { url: named, epoch };
        grace ??= setTimeout(settle, GRACE_MS);
      } catch (err) {
        if (err instanceof YakClientError && !race.signal.aborted) {
          attempts.push({ url: `${seed}/metadata/leader`, outcome: outcome(err) });
          if (err.status === 401 || err.status === 403 || err.code === 'TLS_FAILED') refusal ??= err;
        }
      } finally {
        if (--pending === 0) settle();
      }
    };
    for (const t of targets) void ask(t);
    await settled;
    if (grace) clearTimeout(grace);
    race.abort();
    const found = best as { url: string; epoch: number } | null;
    return found ? { url: found.url, attempts } : { url: null, attempts, ...(refusal ? { refusal } : {}) };
  }
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
