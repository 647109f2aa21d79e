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

/**
 * Finds the leader by asking every seed's GET /metadata/leader at once; the first seed that names
 * a leader wins and the others are cancelled. Concurrent callers share one search in flight, so
 * a failover does not turn every pending request into a round of seed queries.
 */
export class LeaderDiscovery {
  private inFlight: Promise<Discovery> | null = null;

  constructor(
    private readonly seeds: readonly string[],
    private readonly timeoutMs: number,
    private readonly normalise: (url: string) => string,
    private readonly connection: Connection = {},
  ) {}

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
    const ask = async (seed: string): Promise<string> => {
      try {
        const answer = await exchange<LeaderAnswer>(seed, { method: 'GET', path: '/metadata/leader', signal: race.signal }, this.timeoutMs, this.connection);
        const url = answer.leader?.url;
        if (typeof url !== 'string') throw new YakClientError('NO_LEADER', 0, `${seed} knows no leader yet (epoch ${answer.epoch})`, true);
        return this.normalise(url);
      } catch (err) {
        if (err instanceof YakClientError && !race.signal.aborted) {
          attempts.push({ url: `${seed}/metadata/leader`, outcome: outcome(err) });
          if (err.status === 401 || err.status === 403 || err.code === 'TLS_FAILED') refusal ??= err;
        }
        throw err;
      }
    };
    try {
      return { url: await Promise.any(this.seeds.map(ask)), attempts };
    } catch {
      return { url: null, attempts, ...(refusal ? { refusal } : {}) };
    } finally {
      race.abort();
    }
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
