import type { FlowModel, FlowNode } from '../../lib/flowModel';
import { PRODUCER_ID } from '../../lib/flowModel';

/** Canvas drawing for ReplicationFlow: colours come from the theme's CSS variables. */
export interface Palette {
  text: string; muted: string; faint: string; border: string; bg: string;
  leader: string; follower: string; ok: string; warn: string; danger: string; accent: string; idle: string;
}

export function readPalette(el: Element): Palette {
  const css = getComputedStyle(el);
  const v = (name: string) => css.getPropertyValue(name).trim() || '#888';
  return {
    text: v('--text'), muted: v('--text-muted'), faint: v('--text-faint'), border: v('--border-strong'), bg: v('--bg-elev'),
    leader: v('--leader'), follower: v('--follower'), ok: v('--ok'), warn: v('--warn'), danger: v('--danger'),
    accent: v('--accent'), idle: v('--idle'),
  };
}

const RADIUS = 24;
/** Room above the drawing (the "no leader" line) and below it (two label lines under the last node). */
export const FLOW_TOP = 40;
export const FLOW_BOTTOM = 66;
/** What one node takes, circle and the three label lines under it, in CSS pixels around its centre. */
export const NODE_BOX = { width: 130, above: RADIUS + 6, below: RADIUS + 18 + 28 + 4 };
/** Height each follower row needs so that one node's labels end before the next node's circle. */
export const ROW_HEIGHT = NODE_BOX.above + NODE_BOX.below + 8;

/** Where each node is drawn, as boxes in CSS pixels (for the layout test). */
export function nodeBoxes(model: FlowModel, w: number, h: number): { id: string; left: number; top: number; right: number; bottom: number }[] {
  return [...model.nodes.values()].map((n) => {
    const x = n.x * w;
    const y = FLOW_TOP + n.y * (h - FLOW_TOP - FLOW_BOTTOM);
    return { id: n.id, left: x - NODE_BOX.width / 2, right: x + NODE_BOX.width / 2, top: y - NODE_BOX.above, bottom: y + NODE_BOX.below };
  });
}
const ease = (t: number) => (t < 0.5 ? 2 * t * t : 1 - (-2 * t + 2) ** 2 / 2);

function fillFor(n: FlowNode, p: Palette): string {
  if (n.producer) return p.accent;
  if (n.health === 'dead') return p.danger;
  if (n.health === 'paused' || n.health === 'unresponsive') return p.warn;
  if (n.health === 'starting') return p.idle;
  return n.leader ? p.leader : p.follower;
}

export function drawFlow(ctx: CanvasRenderingContext2D, model: FlowModel, p: Palette, w: number, h: number, leaseSeconds: number): void {
  ctx.clearRect(0, 0, w, h);
  // Room above for the "no leader" banner and below for the two label lines under each node.
  const top = FLOW_TOP;
  const bottom = FLOW_BOTTOM;
  const at = (n: FlowNode) => ({ x: n.x * w, y: top + n.y * (h - top - bottom) });
  const producer = model.nodes.get(PRODUCER_ID)!;
  const center = model.centerId ? model.nodes.get(model.centerId) : undefined;
  const brokers = [...model.nodes.values()].filter((n) => !n.producer);

  // Edges: producer → leader slot, leader slot → each follower; a follower out of the ISR gets a dashed line.
  ctx.lineWidth = 2;
  const edge = (a: FlowNode, b: FlowNode, color: string, dashed: boolean) => {
    const pa = at(a);
    const pb = at(b);
    ctx.setLineDash(dashed ? [5, 6] : []);
    ctx.strokeStyle = color;
    ctx.beginPath();
    ctx.moveTo(pa.x, pa.y);
    ctx.lineTo(pb.x, pb.y);
    ctx.stroke();
  };
  if (center) {
    edge(producer, center, model.leaderless ? p.danger : p.border, model.leaderless);
    for (const b of brokers) if (b !== center) edge(center, b, b.inSync && b.health === 'alive' ? p.border : p.faint, !b.inSync || b.health !== 'alive');
  }
  ctx.setLineDash([]);

  for (const dot of model.particles) {
    const a = model.nodes.get(dot.from);
    const b = model.nodes.get(dot.to);
    if (!a || !b || dot.delayMs > 0) continue;
    const k = ease(Math.min(1, dot.t));
    const pa = at(a);
    const pb = at(b);
    ctx.fillStyle = dot.from === PRODUCER_ID ? p.accent : p.leader;
    ctx.beginPath();
    ctx.arc(pa.x + (pb.x - pa.x) * k, pa.y + (pb.y - pa.y) * k, 4, 0, Math.PI * 2);
    ctx.fill();
  }

  for (const n of model.nodes.values()) drawNode(ctx, n, at(n), p);

  if (model.leaderless) {
    ctx.fillStyle = p.danger;
    ctx.font = '600 13px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.fillText(`No leader — writes wait for the lease (${leaseSeconds} s) to expire and a new election`, w / 2, 22);
  }
}

function drawNode(ctx: CanvasRenderingContext2D, n: FlowNode, c: { x: number; y: number }, p: Palette): void {
  const fill = fillFor(n, p);
  ctx.fillStyle = fill;
  ctx.strokeStyle = p.bg;
  ctx.lineWidth = 3;
  ctx.beginPath();
  if (n.producer) ctx.roundRect(c.x - RADIUS, c.y - RADIUS, RADIUS * 2, RADIUS * 2, 8);
  else ctx.arc(c.x, c.y, n.leader ? RADIUS + 4 : RADIUS, 0, Math.PI * 2);
  ctx.fill();
  ctx.stroke();
  if (!n.inSync && !n.producer && n.health === 'alive') {
    ctx.strokeStyle = p.warn;
    ctx.setLineDash([3, 3]);
    ctx.beginPath();
    ctx.arc(c.x, c.y, RADIUS + 6, 0, Math.PI * 2);
    ctx.stroke();
    ctx.setLineDash([]);
  }

  ctx.fillStyle = '#fff';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.font = '700 14px system-ui, sans-serif';
  const glyph = n.producer ? 'P' : n.health === 'dead' ? '✕' : n.health === 'paused' ? '❚❚' : n.leader ? '★' : '';
  if (glyph) ctx.fillText(glyph, c.x, c.y + 1);

  ctx.textBaseline = 'alphabetic';
  ctx.fillStyle = p.text;
  ctx.font = '600 12px ui-monospace, Menlo, monospace';
  const below = c.y + RADIUS + 18;
  ctx.fillText(n.producer ? 'producer' : n.id, c.x, below);
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = n.leader ? p.leader : p.muted;
  const role = n.leader ? (n.health === 'alive' ? 'leader' : `leader, ${n.health}`) : n.health === 'alive' ? 'follower' : n.health;
  const sub = n.producer ? 'your records' : `${role} · epoch ${n.epoch ?? '–'}`;
  ctx.fillText(sub, c.x, below + 14);
  if (!n.producer) {
    ctx.fillStyle = p.faint;
    ctx.fillText(`${n.leo.toLocaleString('en-US')} records in log`, c.x, below + 28);
  }
}
