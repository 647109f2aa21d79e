import type {
  ClusterApi,
  ClusterApiCall,
  ClusterEvent,
  ClusterSnapshot,
  ConsumeRequest,
  ConsumeResult,
  Unsubscribe,
} from '../../../shared/cluster-api';
import { CLUSTER_API_CALLS } from '../../../shared/cluster-api';
import type { CallAnswer, CallError } from '../../../shared/web-protocol';
import { SSE_CLUSTER_EVENT, SSE_SNAPSHOT_EVENT, WEB_CALL_PREFIX, WEB_STREAM_PATH } from '../../../shared/web-protocol';
import { ApiError } from './errors';
import { Limiter } from './limiter';

/**
 * The ClusterApi over the web host (see shared/web-protocol.ts): calls are POSTs, pushes come from
 * one shared EventSource that reconnects by itself.
 */

// Chromium allows 6 HTTP/1.1 connections per origin; the stream holds one. Long-polls are capped so
// that sends and dashboard actions never queue behind consumers waiting for data.
const MAX_LONG_POLLS = 3;
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 5_000;

type Listener<T> = (value: T) => void;

export function createHttpApi(base = ''): ClusterApi {
  const longPolls = new Limiter(MAX_LONG_POLLS);
  const stream = new EventStream(base + WEB_STREAM_PATH);

  async function call<T>(method: ClusterApiCall, args: unknown[]): Promise<T> {
    let response: Response;
    try {
      response = await fetch(base + WEB_CALL_PREFIX + method, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ args }),
      });
    } catch (error) {
      throw new ApiError('UNREACHABLE', `The YAK web host did not answer (${(error as Error).message}).`);
    }
    const body = (await response.json().catch(() => null)) as CallAnswer<T> | CallError | null;
    if (!response.ok || body === null || !('result' in body)) {
      const err = body as CallError | null;
      throw new ApiError(err?.error ?? `HTTP_${response.status}`, err?.message ?? response.statusText, response.status);
    }
    return body.result;
  }

  // Every request/response method forwards its arguments as-is; consume is special-cased below.
  const calls = Object.fromEntries(
    CLUSTER_API_CALLS.map((method) => [method, (...args: unknown[]) => call(method, args)]),
  ) as unknown as Omit<ClusterApi, 'onSnapshot' | 'onEvent'>;

  return {
    ...calls,
    consume(request: ConsumeRequest): Promise<ConsumeResult> {
      if (!request.waitMs) return call('consume', [request]);
      return longPolls.run(() => call<ConsumeResult>('consume', [request]));
    },
    onSnapshot: (listener) => stream.on(SSE_SNAPSHOT_EVENT, listener as Listener<unknown>),
    onEvent: (listener) => stream.on(SSE_CLUSTER_EVENT, listener as Listener<unknown>),
  };
}

/** One EventSource for all listeners; opened on the first, closed after the last. */
class EventStream {
  private source: EventSource | null = null;
  private readonly listeners = new Map<string, Set<Listener<unknown>>>();
  private retryMs = RECONNECT_MIN_MS;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly url: string) {}

  on(name: string, listener: Listener<unknown>): Unsubscribe {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    if (!this.source && !this.retryTimer) this.open();
    return () => {
      set.delete(listener);
      if ([...this.listeners.values()].every((s) => s.size === 0)) this.close();
    };
  }

  private open(): void {
    this.retryTimer = null;
    const source = new EventSource(this.url);
    this.source = source;
    for (const name of [SSE_SNAPSHOT_EVENT, SSE_CLUSTER_EVENT]) {
      source.addEventListener(name, (message) => {
        this.retryMs = RECONNECT_MIN_MS;
        const data = JSON.parse((message as MessageEvent<string>).data) as ClusterSnapshot | ClusterEvent;
        for (const listener of this.listeners.get(name) ?? []) listener(data);
      });
    }
    // EventSource retries by itself after a dropped connection, but gives up for good (CLOSED) when
    // the host answers with an error status — e.g. while it restarts; we then reopen with backoff.
    source.onerror = () => {
      if (source.readyState !== EventSource.CLOSED) return;
      this.source = null;
      this.retryTimer = setTimeout(() => this.open(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MAX_MS);
    };
  }

  private close(): void {
    this.source?.close();
    this.source = null;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}
