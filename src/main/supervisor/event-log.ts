import type { ClusterEvent, ClusterEventKind } from '../../shared/cluster-api.js';

export type EventListener = (event: ClusterEvent) => void;

/** The activity log: numbered events, the recent ones kept for late subscribers. */
export class EventLog {
  private seq = 0;
  private readonly recent: ClusterEvent[] = [];
  private readonly listeners = new Set<EventListener>();

  constructor(private readonly keep = 500) {}

  emit(kind: ClusterEventKind, message: string, extra: { brokerId?: string; epoch?: number } = {}): ClusterEvent {
    const event: ClusterEvent = { seq: ++this.seq, at: Date.now(), kind, message, ...extra };
    this.recent.push(event);
    if (this.recent.length > this.keep) this.recent.splice(0, this.recent.length - this.keep);
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A failing listener (a closed window, a dropped HTTP stream) must not stop the others.
      }
    }
    return event;
  }

  list(): ClusterEvent[] {
    return [...this.recent];
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
