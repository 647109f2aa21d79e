import type { ClusterSnapshot } from '../../../shared/cluster-api';
import { brokerHealth, type BrokerHealth } from './brokerHealth';

/**
 * The state behind the "records flowing" animation, kept free of canvas and Vue so it is easy to
 * reason about: nodes glide to their layout slot, and each snapshot turns growth of a replica's
 * log end offset into dots travelling to it (producer → leader, leader → follower). A paused or dead
 * follower's log stops growing, so dots simply stop reaching it — the picture never invents traffic.
 */

export interface FlowNode {
  id: string;
  producer: boolean;
  leader: boolean;
  health: BrokerHealth;
  inSync: boolean;
  epoch: number | null;
  /** Sum of this replica's log end offsets over all partitions: it stops growing when it falls behind. */
  leo: number;
  /** Position and target in 0..1 units of the drawing area. */
  x: number;
  y: number;
  tx: number;
  ty: number;
}

export interface Particle {
  from: string;
  to: string;
  /** 0..1 along the edge once the delay has run out. */
  t: number;
  delayMs: number;
}

export const PRODUCER_ID = '__producer__';
const MAX_DOTS_PER_EDGE = 10;
const TRAVEL_MS = 650;
const GLIDE_PER_MS = 0.004;
// While the Dashboard is hidden nothing advances the dots; this keeps them from piling up meanwhile.
const MAX_PARTICLES = 400;
/** Closer than this to its slot (in 0..1 units, well under a pixel) a node counts as arrived. */
const SETTLED = 0.0005;

export class FlowModel {
  readonly nodes = new Map<string, FlowNode>();
  particles: Particle[] = [];
  centerId: string | null = null;
  leaderless = false;
  /** Followers stacked in one column at most this many: the drawing is made tall enough for them. */
  rows = 1;
  private lastLeo = new Map<string, number>();
  private lastUpdateAt = 0;

  constructor() {
    this.nodes.set(PRODUCER_ID, {
      id: PRODUCER_ID, producer: true, leader: false, health: 'alive', inSync: true, epoch: null, leo: 0,
      x: 0.1, y: 0.5, tx: 0.1, ty: 0.5,
    });
  }

  update(snapshot: ClusterSnapshot, now = performance.now()): void {
    const interval = this.lastUpdateAt ? Math.min(2_000, Math.max(300, now - this.lastUpdateAt)) : 1_000;
    this.lastUpdateAt = now;
    const leaderId = snapshot.leader?.id ?? null;
    const leader = snapshot.brokers.find((b) => b.id === leaderId);
    // Redis may still name a dead or frozen leader until its lease runs out: no writes either way.
    this.leaderless = !leader || brokerHealth(leader) !== 'alive';
    // The centre keeps the last leader while there is none, so the dead or frozen one stays in view.
    if (leaderId || !snapshot.brokers.some((b) => b.id === this.centerId)) this.centerId = leaderId;

    const ids = new Set(snapshot.brokers.map((b) => b.id));
    for (const id of [...this.nodes.keys()]) if (id !== PRODUCER_ID && !ids.has(id)) this.nodes.delete(id);
    const followers = snapshot.brokers.filter((b) => b.id !== this.centerId).map((b) => b.id).sort();
    const layout = followerLayout(followers.length);
    this.rows = layout.rows;
    for (const b of snapshot.brokers) {
      const slot = b.id === this.centerId ? { x: layout.leaderX, y: 0.5 } : layout.slot(followers.indexOf(b.id));
      const node = this.nodes.get(b.id) ?? ({ ...slot, tx: slot.x, ty: slot.y, id: b.id, producer: false, leo: 0 } as FlowNode);
      Object.assign(node, {
        leader: b.id === leaderId, health: brokerHealth(b), inSync: b.inSync, epoch: b.epoch, tx: slot.x, ty: slot.y,
      });
      this.nodes.set(b.id, node);
    }
    this.spawn(snapshot, leaderId, interval);
  }

  /** Nothing moves: every node is at its slot and no dot is travelling. Then no frame needs drawing. */
  settled(): boolean {
    if (this.particles.length > 0) return false;
    for (const n of this.nodes.values()) if (Math.abs(n.tx - n.x) > SETTLED || Math.abs(n.ty - n.y) > SETTLED) return false;
    return true;
  }

  /** Every node at its slot at once (reduced motion: no gliding). */
  snap(): void {
    for (const n of this.nodes.values()) {
      n.x = n.tx;
      n.y = n.ty;
    }
  }

  /** What the drawing shows, as a string: equal strings draw the same picture. */
  signature(): string {
    let out = `${this.centerId}|${this.leaderless}|${this.particles.length}`;
    for (const n of this.nodes.values()) out += `|${n.id},${n.leader},${n.health},${n.inSync},${n.epoch},${n.tx},${n.ty}`;
    return out;
  }

  step(dtMs: number): void {
    for (const n of this.nodes.values()) {
      const k = Math.min(1, dtMs * GLIDE_PER_MS);
      n.x += (n.tx - n.x) * k;
      n.y += (n.ty - n.y) * k;
      if (Math.abs(n.tx - n.x) <= SETTLED) n.x = n.tx;
      if (Math.abs(n.ty - n.y) <= SETTLED) n.y = n.ty;
    }
    for (const p of this.particles) {
      if (p.delayMs > 0) p.delayMs -= dtMs;
      else p.t += dtMs / TRAVEL_MS;
    }
    this.particles = this.particles.filter((p) => p.t < 1 && this.nodes.has(p.from) && this.nodes.has(p.to));
  }

  private spawn(snapshot: ClusterSnapshot, leaderId: string | null, intervalMs: number): void {
    const leo = new Map<string, number>();
    for (const topic of snapshot.topics)
      for (const part of topic.partitions)
        for (const r of part.replicas) leo.set(r.brokerId, (leo.get(r.brokerId) ?? 0) + r.logEndOffset);
    const first = this.lastLeo.size === 0;
    for (const [id, value] of leo) {
      const grown = value - (this.lastLeo.get(id) ?? value);
      if (first || grown <= 0) continue;
      const from = id === leaderId ? PRODUCER_ID : leaderId;
      if (!from) continue;
      const dots = Math.min(grown, MAX_DOTS_PER_EDGE);
      // Spread over the time until the next snapshot so a steady stream looks steady.
      if (this.particles.length >= MAX_PARTICLES) continue;
      for (let i = 0; i < dots; i++) this.particles.push({ from, to: id, t: 0, delayMs: (i * intervalMs) / dots });
    }
    this.lastLeo = leo;
    for (const [id, value] of leo) {
      const node = this.nodes.get(id);
      if (node) node.leo = value;
    }
  }
}

/**
 * Where followers go: one column for up to 3, two columns beyond, each follower in its own band of
 * the height (centred in it), so 7 brokers never overlap; the view sizes the canvas from `rows`.
 */
export function followerLayout(count: number): { rows: number; leaderX: number; slot(index: number): { x: number; y: number } } {
  const cols = count > 3 ? 2 : 1;
  const rows = Math.max(1, Math.ceil(count / cols));
  const xs = cols === 1 ? [0.84] : [0.64, 0.88];
  return {
    rows,
    leaderX: cols === 1 ? 0.45 : 0.38,
    slot: (index) => ({ x: xs[Math.floor(index / rows)] ?? 0.84, y: (Math.max(0, index % rows) + 0.5) / rows }),
  };
}
