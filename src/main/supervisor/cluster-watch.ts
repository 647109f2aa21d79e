import type { ClusterEventKind } from '../../shared/cluster-api.js';
import type { Observation } from './observation.js';

export interface WatchEvent {
  kind: ClusterEventKind;
  message: string;
  brokerId?: string;
  epoch?: number;
}

/**
 * Turns successive observations into discrete events: who leads (and with which epoch), lost
 * leases, and changes to the in-sync set. It remembers the last *known* state, so a round in
 * which nobody answered neither invents nor repeats an election. Pure: no I/O, no clock.
 */
export class ClusterWatch {
  private leader: { id: string; epoch: number } | null = null;
  private isr: Set<string> | null = null;

  /** Forget everything (the cluster was stopped or wiped). */
  reset(): void {
    this.leader = null;
    this.isr = null;
  }

  update(obs: Observation): WatchEvent[] {
    const view = obs.cluster;
    if (!view) return [];
    const events: WatchEvent[] = [];
    const next = view.leader ? { id: view.leader.id, epoch: view.epoch } : null;
    const prev = this.leader;
    const changed = !prev || !next || prev.id !== next.id || next.epoch > prev.epoch;
    if (prev && changed && (next === null || next.epoch >= prev.epoch)) {
      events.push({
        kind: 'lease-lost',
        message: `${prev.id} no longer holds the leader lease (epoch ${prev.epoch})`,
        brokerId: prev.id,
        epoch: prev.epoch,
      });
    }
    if (next && changed && (!prev || next.epoch >= prev.epoch)) {
      events.push({ kind: 'leader-elected', message: `${next.id} is the leader (epoch ${next.epoch})`, brokerId: next.id, epoch: next.epoch });
    }
    // An older epoch seen from a lagging broker is not news; keep what we knew.
    if (!prev || !next || next.epoch >= prev.epoch) this.leader = next;

    const isr = new Set(view.brokers.filter((b) => b.inSync).map((b) => b.id));
    if (this.isr) {
      for (const id of this.isr) {
        if (!isr.has(id)) events.push({ kind: 'isr-shrink', message: `${id} left the in-sync replica set (${list(isr)})`, brokerId: id, epoch: view.epoch });
      }
      for (const id of isr) {
        if (!this.isr.has(id)) events.push({ kind: 'isr-expand', message: `${id} joined the in-sync replica set (${list(isr)})`, brokerId: id, epoch: view.epoch });
      }
    }
    this.isr = isr;
    return events;
  }
}

function list(ids: ReadonlySet<string>): string {
  return ids.size ? `now ${[...ids].sort().join(', ')}` : 'now empty';
}
