import type { ClusterEventKind } from '../../../shared/cluster-api.js';
import { claimedLeader, mergeMembership, trustedMembership, type ClusterViewObs, type Observation } from './observation.js';

export interface WatchEvent {
  kind: ClusterEventKind;
  message: string;
  brokerId?: string;
  epoch?: number;
}

/**
 * Turns successive observations into discrete events: who leads (and with which epoch), lost
 * leases, and changes to the in-sync set. Pure: no I/O, no clock.
 *
 * Only what the brokers themselves report counts (issue 11):
 * - an election is a broker's own /health claiming the leader role under an epoch higher than any
 *   announced before — so one epoch never gets two leaders, and a lagging broker's old epoch, or a
 *   follower still naming the last lease holder, is not news;
 * - a lease is lost when its holder says it follows, a higher epoch is seen anywhere, or the
 *   brokers report that Redis holds no lease or another holder's;
 * - the in-sync set changes only between two views from a leader that reaches Redis, and a
 *   broker such a view does not list has not left it.
 */
export class ClusterWatch {
  /** The leader last announced and not yet reported lost. */
  private leader: { id: string; epoch: number } | null = null;
  /** The highest epoch whose leader was announced: never announced again, nor any below it. */
  private announcedEpoch = -1;
  private announcedId: string | null = null;
  private isr: Set<string> | null = null;
  private membership: ClusterViewObs | null = null;

  /** Forget everything (the cluster was stopped or wiped). */
  reset(): void {
    this.leader = null;
    this.announcedEpoch = -1;
    this.announcedId = null;
    this.isr = null;
    this.membership = null;
  }

  update(obs: Observation): WatchEvent[] {
    const events: WatchEvent[] = [];
    const claim = claimedLeader(obs);
    const known = this.leader;
    if (known && this.lost(known, claim, obs)) {
      events.push({ kind: 'lease-lost', message: `${known.id} no longer holds the leader lease (epoch ${known.epoch})`, brokerId: known.id, epoch: known.epoch });
      this.leader = null;
    }
    if (claim && claim.epoch > this.announcedEpoch) {
      events.push({ kind: 'leader-elected', message: `${claim.id} is the leader (epoch ${claim.epoch})`, brokerId: claim.id, epoch: claim.epoch });
      this.leader = claim;
      this.announcedEpoch = claim.epoch;
      this.announcedId = claim.id;
    } else if (claim && !this.leader && claim.epoch === this.announcedEpoch && claim.id === this.announcedId) {
      this.leader = claim; // the same leadership seen again after a doubtful round: not news
    }

    const trusted = trustedMembership(obs);
    if (trusted) {
      const view = mergeMembership(this.membership, trusted);
      this.membership = view;
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
    }
    return events;
  }

  private lost(known: { id: string; epoch: number }, claim: { id: string; epoch: number } | null, obs: Observation): boolean {
    if (claim && claim.epoch > known.epoch) return true;
    const own = obs.health.get(known.id);
    if (own && (own.role !== 'leader' || own.epoch !== known.epoch)) return true;
    if (own) return false; // it still claims the lease, and its own word is the best there is
    const maxEpoch = Math.max(-1, ...[...obs.health.values()].map((h) => h.epoch));
    if (maxEpoch > known.epoch) return true;
    const view = obs.cluster;
    return view !== null && view.epoch >= known.epoch && (view.leader === null || view.leader.id !== known.id);
  }
}

function list(ids: ReadonlySet<string>): string {
  return ids.size ? `now ${[...ids].sort().join(', ')}` : 'now empty';
}
