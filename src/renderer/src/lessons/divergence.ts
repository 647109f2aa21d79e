import type { ClusterSnapshot, ConsumedRecord } from '../../../shared/cluster-api';
import { currentLeader, ensureTopic, runTag, sleep, type LessonContext } from './context';
import { eventEntry } from './failover';
import type { LogDiffRow } from './timeline';

export const DIVERGE_TOPIC = 'lesson-diverge';
const TAIL_WRITES = 3;
const NEW_WRITES = 2;

interface Payload {
  lesson: 'diverge';
  run: string;
  n: number;
  by: string;
}

function partitionOf(s: ClusterSnapshot, brokerId: string): { end: number; hwm: number } | null {
  const r = s.topics.find((t) => t.name === DIVERGE_TOPIC)?.partitions[0]?.replicas.find((x) => x.brokerId === brokerId);
  return r ? { end: r.logEndOffset, hwm: r.highWatermark } : null;
}

const show = (p: Payload) => `write #${p.n} (sent to ${p.by})`;

/**
 * Lesson 6: follower catch-up and divergent-tail truncation. With every follower frozen, the
 * leader appends writes it cannot commit, and is killed before it gives up on the followers. They
 * are resumed; one is elected with a higher epoch and takes new writes at the same offsets. The old
 * leader is started again: its log disagrees with the new leader's above the high-water mark, so
 * it cuts that tail (its own output says so) and copies the leader's records — shown as a diff.
 */
export async function runDivergence(ctx: LessonContext): Promise<string> {
  const start = ctx.snapshot();
  const old = currentLeader(start);
  if (!start || !old) throw new Error('no broker leads right now: start the cluster (or wait for an election) first');
  const followers = start.brokers.filter((b) => b.id !== old.id && b.inSync && b.reachable).map((b) => b.id);
  if (followers.length === 0) throw new Error('the lesson needs at least one in-sync follower');
  await ensureTopic(ctx, DIVERGE_TOPIC, 1);
  const run = runTag();
  let n = 0;
  const payload = (by: string): Payload => ({ lesson: 'diverge', run, n: n++, by });

  const [first] = await ctx.api.produceOnBroker(old.id, [{ topic: DIVERGE_TOPIC, partition: 0, payload: payload(old.id) }]);
  if (!first?.result) throw new Error(`${old.id} refused a write: ${first?.error?.code} ${first?.error?.message}`);
  const base = first.result.offset + 1;
  await ctx.waitFor((s) => followers.every((f) => partitionOf(s, f)?.end === base), 15_000, 'the followers to have the first record');
  ctx.record({ kind: 'committed', source: 'broker', tone: 'ok', broker: old.id, epoch: old.epoch, partition: 0, offset: first.result.offset, text: `${old.id} (epoch ${old.epoch}) committed write #0 at offset ${first.result.offset}; every follower has it` });

  const paused: string[] = [];
  let killed = false;
  try {
    for (const f of followers) {
      await ctx.api.brokerAction(f, 'pause');
      paused.push(f);
    }
    ctx.record({ kind: 'paused', source: 'supervisor', tone: 'bad', text: `${followers.join(', ')} frozen with SIGSTOP: ${old.id} can append but not commit` });
    const tail = Array.from({ length: TAIL_WRITES }, () => payload(old.id));
    const send = (ps: Payload[]) => ctx.api.produceOnBroker(old.id, ps.map((p) => ({ topic: DIVERGE_TOPIC, partition: 0, payload: p })), 10_000);
    // The first write's replication frame still reaches the frozen followers' sockets (the kernel
    // accepts it); the leader sends the next frame only once that one is answered — never, here.
    // So the writes sent a moment later exist on the leader alone: they are the tail that diverges.
    const firstPart = send(tail.slice(0, 1));
    await sleep(200);
    const rest = send(tail.slice(1));
    const pending = Promise.all([firstPart, rest]).then((parts) => parts.flat());
    pending.catch(() => undefined);
    // Kill it once its own /topics shows the uncommitted tail — before the replica lag time, when it
    // would drop the frozen followers and commit alone (then nothing would diverge).
    const seen = await ctx
      .waitFor((s) => (partitionOf(s, old.id)?.end ?? 0) >= base + TAIL_WRITES, 1_000, `${old.id} to append the writes`)
      .catch(() => null);
    await ctx.api.brokerAction(old.id, 'kill');
    killed = true;
    const at = seen ? partitionOf(seen, old.id) : null;
    ctx.record({
      kind: 'killed',
      source: 'supervisor',
      tone: 'bad',
      broker: old.id,
      partition: 0,
      ...(at ? { offset: at.end } : {}),
      text: at
        ? `${old.id} killed with SIGKILL; its last /topics: log end ${at.end}, high-water mark ${at.hwm} — ${at.end - at.hwm} record(s) written, not committed`
        : `${old.id} killed with SIGKILL (the poll did not see its tail in time)`,
    });
    for (const [i, a] of (await pending).entries()) {
      ctx.record({ at: a.answeredAt, kind: a.result ? 'ack' : 'unanswered', source: 'broker', tone: a.result ? 'ok' : 'bad', broker: old.id, ref: `${run}#${tail[i]!.n}`, text: a.result ? `${old.id} acknowledged write #${tail[i]!.n} at offset ${a.result.offset}` : `write #${tail[i]!.n}: ${a.error!.code} — ${a.error!.message} (the outcome is unknown to the producer)` });
    }

    for (const f of paused.splice(0)) await ctx.api.brokerAction(f, 'resume');
    ctx.record({ kind: 'resumed', source: 'supervisor', tone: 'info', text: `${followers.join(', ')} resumed` });
    const elected = await ctx.waitFor((s) => s.leader !== null && s.leader.id !== old.id && (currentLeader(s)?.epoch ?? 0) > old.epoch, 20_000, 'a new leader among the followers');
    const next = currentLeader(elected)!;
    ctx.record({ kind: 'new-leader', source: 'cluster', tone: 'ok', broker: next.id, epoch: next.epoch, text: `${next.id} leads with epoch ${next.epoch} (its own /health)` });
    const fresh = Array.from({ length: NEW_WRITES }, () => payload(next.id));
    for (const a of await ctx.api.produceOnBroker(next.id, fresh.map((p) => ({ topic: DIVERGE_TOPIC, partition: 0, payload: p })))) {
      if (!a.result) throw new Error(`${next.id} refused a write: ${a.error?.code} ${a.error?.message}`);
      ctx.record({ at: a.answeredAt, kind: 'ack', source: 'broker', tone: 'ok', broker: next.id, epoch: next.epoch, partition: 0, offset: a.result.offset, text: `${next.id} (epoch ${next.epoch}) committed a write at offset ${a.result.offset}` });
    }

    // The old leader comes back: it must cut its tail and copy the new leader's records.
    const outputBefore = (await ctx.api.processOutput(old.id)).length;
    await ctx.api.brokerAction(old.id, 'start');
    ctx.record({ kind: 'restarted', source: 'supervisor', tone: 'info', broker: old.id, text: `${old.id} started again` });
    const back = await ctx.waitFor((s) => {
      const me = partitionOf(s, old.id);
      const lead = partitionOf(s, next.id);
      return (s.brokers.find((b) => b.id === old.id)?.inSync ?? false) && me !== null && lead !== null && me.end === lead.end;
    }, 30_000, `${old.id} to catch up and rejoin the in-sync set`);
    const caught = partitionOf(back, old.id)!;
    ctx.record({ at: back.at, kind: 'caught-up', source: 'cluster', tone: 'ok', broker: old.id, partition: 0, offset: caught.end, text: `${old.id}'s own /topics: log end ${caught.end}, the same as ${next.id}'s; back in the in-sync set` });
    await sleep(300);
    const lines = (await ctx.api.processOutput(old.id)).slice(-Math.max(1, 500 - outputBefore));
    const cut = lines.filter((l) => l.includes(`${DIVERGE_TOPIC}/0`) && l.includes('divergent tail'));
    for (const line of cut) {
      // The broker's text log starts with its own ISO timestamp: place the line when it happened.
      const stamp = Date.parse(/^\S*?(\d{4}-\d\d-\d\dT[\d:.]+Z)/.exec(line)?.[1] ?? '');
      ctx.record({ ...(Number.isFinite(stamp) ? { at: stamp } : {}), kind: 'truncated', source: 'broker', tone: 'info', broker: old.id, text: `${old.id}'s own log: ${line.trim()}` });
    }

    // The log now, as the leader serves it, beside what the old leader held before.
    const now = await readFrom(ctx, base - 1, run);
    const rows = diffRows(base, tail, at?.end ?? null, now);
    ctx.setDiff(rows);
    for (const e of ctx.eventsSinceStart()) {
      const entry = eventEntry(e);
      if (entry) ctx.record(entry);
    }
    const gone = rows.filter((r) => r.verdict === 'replaced' || r.verdict === 'cut').length;
    const kept = rows.filter((r) => r.verdict === 'kept' && r.offset >= base).length;
    if (!at || cut.length === 0) {
      return `This run did not produce a divergent tail to cut (${!at ? `the poll did not see ${old.id}'s uncommitted records before the kill` : `${old.id}'s output shows no truncation`}). ${old.id} still caught up from ${next.id} and rejoined. Run it again.`;
    }
    return [
      `${old.id} had written ${at.end - at.hwm} record(s) at offsets ${at.hwm}–${at.end - 1} under epoch ${old.epoch} without committing them, and died; their producer got no answer.`,
      kept > 0 ? `${kept} of them survived: a follower had received it before the leader died (the replication frame waited in its socket while it was frozen), so the new leader ${next.id} kept it and committed it — "outcome unknown" really means either.` : '',
      `${next.id} (epoch ${next.epoch}) wrote new records from offset ${at.hwm + kept} on. When ${old.id} came back, its log and the leader's disagreed there: it cut its tail — its own output says so — ${gone} offset(s), and copied the leader's records. Only uncommitted records can vanish this way; acknowledged ones never do.`,
    ]
      .filter(Boolean)
      .join(' ');
  } finally {
    for (const f of paused) await ctx.api.brokerAction(f, 'resume').catch(() => undefined);
    if (killed && ctx.snapshot()?.brokers.find((b) => b.id === old.id)?.process.state !== 'running') await ctx.api.brokerAction(old.id, 'start').catch(() => undefined);
  }
}

async function readFrom(ctx: LessonContext, from: number, run: string): Promise<Map<number, Payload>> {
  const out = new Map<number, Payload>();
  const answer = await ctx.api.consume({ topic: DIVERGE_TOPIC, partition: 0, offset: from, max: 100 });
  for (const r of answer.records as ConsumedRecord[]) {
    const p = r.payload as Payload | null;
    if (p?.run === run) out.set(r.offset, p);
  }
  return out;
}

function diffRows(base: number, tail: Payload[], oldEnd: number | null, now: Map<number, Payload>): LogDiffRow[] {
  const rows: LogDiffRow[] = [];
  const held = oldEnd === null ? 0 : Math.min(tail.length, oldEnd - base);
  const last = Math.max(base + held, ...[...now.keys()].map((o) => o + 1));
  for (let offset = base - 1; offset < last; offset++) {
    const beforeP = offset === base - 1 ? now.get(offset) ?? null : offset - base < held ? tail[offset - base]! : null;
    const afterP = now.get(offset) ?? null;
    const before = beforeP ? show(beforeP) : null;
    const after = afterP ? show(afterP) : null;
    const verdict: LogDiffRow['verdict'] = before === after ? 'kept' : before && after ? 'replaced' : before ? 'cut' : 'new';
    rows.push({ offset, before, after, verdict });
  }
  return rows;
}
