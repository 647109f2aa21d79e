import type { BrokerProduceAnswer, ConsumedRecord } from '../../../shared/cluster-api';
import { formatMs } from '../lib/format';
import { currentLeader, ensureTopic, runTag, sleep, type LessonContext } from './context';
import { eventEntry } from './failover';

export const ZOMBIE_TOPIC = 'lesson-zombie';
/** Writes sent to the old leader while it is frozen: they wait, unanswered, in its socket. */
const FROZEN_WRITES = 3;
/** Long enough for the lease to run out, a new leader to be elected and the old one resumed. */
const FROZEN_WRITE_TIMEOUT_MS = 60_000;

interface Sent {
  n: number;
  phase: 'before' | 'frozen' | 'new-leader' | 'woken';
  answer: BrokerProduceAnswer;
}

/** The payload every record of this lesson carries, so it can be found (or not) in the log. */
interface ZombiePayload {
  lesson: 'zombie';
  run: string;
  n: number;
  phase: Sent['phase'];
}

/**
 * Lesson 3: the zombie leader fenced by its epoch. The leader is frozen (SIGSTOP) with writes on
 * their way to it; its lease runs out and another broker is elected with a higher epoch; then the
 * old leader is resumed and answers the writes that waited in its socket. Every write goes to one
 * broker only (produceOnBroker), so what is shown is what that broker itself answered, epochs
 * included; the log is then read back to see which writes exist.
 */
export async function runZombie(ctx: LessonContext): Promise<string> {
  const start = ctx.snapshot();
  const old = currentLeader(start);
  if (!start || !old) throw new Error('no broker leads right now: start the cluster (or wait for an election) first');
  if (start.brokers.filter((b) => b.inSync && b.id !== old.id).length < 1) throw new Error('the lesson needs another in-sync broker to take over');
  await ensureTopic(ctx, ZOMBIE_TOPIC, 1);
  const run = runTag();
  const sent: Sent[] = [];
  let n = 0;
  const payload = (phase: Sent['phase']): ZombiePayload => ({ lesson: 'zombie', run, n: n++, phase });

  const send = async (brokerId: string, phase: Sent['phase'], timeoutMs = 10_000): Promise<Sent> => {
    const p = payload(phase);
    const [answer] = await ctx.api.produceOnBroker(brokerId, [{ topic: ZOMBIE_TOPIC, partition: 0, payload: p }], timeoutMs);
    const item = { n: p.n, phase, answer: answer! };
    sent.push(item);
    recordAnswer(ctx, run, item);
    return item;
  };

  // 1. The leader commits as usual.
  ctx.record({ kind: 'leader-before', source: 'cluster', tone: 'info', broker: old.id, epoch: old.epoch, text: `${old.id} leads with epoch ${old.epoch} (its own /health)` });
  const first = await send(old.id, 'before');
  if (!first.answer.result) throw new Error(`${old.id} refused the first write: ${first.answer.error?.code} ${first.answer.error?.message}`);

  // 2. Freeze it, then send writes it cannot answer: they wait in its socket.
  await ctx.api.brokerAction(old.id, 'pause');
  ctx.record({ kind: 'paused', source: 'supervisor', tone: 'bad', broker: old.id, text: `${old.id} frozen with SIGSTOP: it cannot renew its lease, answer, or even see the clock move` });
  const frozenPayloads = Array.from({ length: FROZEN_WRITES }, () => payload('frozen'));
  for (const p of frozenPayloads) {
    ctx.record({ kind: 'sent-frozen', source: 'supervisor', tone: 'info', broker: old.id, ref: `${run}#${p.n}`, text: `write #${p.n} sent to ${old.id} while it is frozen: in flight, unanswered` });
  }
  // One call, the writes sent side by side: each waits on its own connection to the frozen broker.
  const frozen = ctx.api
    .produceOnBroker(old.id, frozenPayloads.map((p) => ({ topic: ZOMBIE_TOPIC, partition: 0, payload: p })), FROZEN_WRITE_TIMEOUT_MS)
    .then((answers) =>
      answers.map((answer, i) => {
        const item: Sent = { n: frozenPayloads[i]!.n, phase: 'frozen', answer };
        sent.push(item);
        recordAnswer(ctx, run, item);
        return item;
      }),
    );
  // Never an unhandled rejection if the lesson fails before awaiting it.
  frozen.catch(() => undefined);

  let resumed = false;
  try {
    // 3. Its lease runs out; another in-sync broker is elected with a higher epoch.
    const elected = await ctx.waitFor(
      (s) => s.leader !== null && s.leader.id !== old.id && (s.brokers.find((b) => b.id === s.leader!.id)?.epoch ?? 0) > old.epoch,
      30_000,
      'a new leader with a higher epoch',
    );
    const next = currentLeader(elected)!;
    ctx.record({ kind: 'new-leader', source: 'cluster', tone: 'ok', broker: next.id, epoch: next.epoch, text: `${next.id} claims the lead with epoch ${next.epoch} (its own /health) — ${old.id} is still frozen and still believes it leads epoch ${old.epoch}` });
    const committed = await send(next.id, 'new-leader');
    if (!committed.answer.result) throw new Error(`the new leader ${next.id} refused a write: ${committed.answer.error?.code} ${committed.answer.error?.message}`);

    // 4. Wake the zombie: the writes that waited in its socket are answered now.
    await ctx.api.brokerAction(old.id, 'resume');
    resumed = true;
    ctx.record({ kind: 'resumed', source: 'supervisor', tone: 'info', broker: old.id, text: `${old.id} resumed with SIGCONT: it wakes up with the writes that waited for it` });
    await frozen;

    // 5. Once it knows the new leader, it says so (and a write to it is refused again).
    const rejoined = await ctx.waitFor(
      (s) => {
        const b = s.brokers.find((x) => x.id === old.id);
        return b !== undefined && b.reachable && b.role === 'follower' && (b.epoch ?? 0) >= next.epoch;
      },
      30_000,
      `${old.id} to answer as a follower of epoch ${next.epoch}`,
    );
    const oldNow = rejoined.brokers.find((b) => b.id === old.id)!;
    ctx.record({ kind: 'old-follower', source: 'cluster', tone: 'ok', broker: old.id, epoch: oldNow.epoch ?? next.epoch, text: `${old.id}'s own /health now says: follower, epoch ${oldNow.epoch}` });
    await send(old.id, 'woken');

    // 6. Read the partition back from the leader: which writes exist, at which offsets?
    const log = await readRun(ctx, run, first.answer.result.offset);
    for (const e of ctx.eventsSinceStart()) {
      const entry = eventEntry(e);
      if (entry) ctx.record(entry);
    }
    return verdict(ctx, { old, next, sent, log });
  } finally {
    // Never leave a broker frozen because the lesson failed half way.
    if (!resumed) await ctx.api.brokerAction(old.id, 'resume').catch(() => undefined);
  }
}

function recordAnswer(ctx: LessonContext, run: string, item: Sent): void {
  const a = item.answer;
  const ref = `${run}#${item.n}`;
  const waited = formatMs(a.answeredAt - a.sentAt);
  if (a.result) {
    ctx.record({
      at: a.answeredAt,
      kind: `ack-${item.phase}`,
      source: 'broker',
      ref,
      tone: 'ok',
      broker: a.brokerId,
      partition: a.result.partition,
      offset: a.result.offset,
      text: `${a.brokerId} acknowledged write #${item.n} (${item.phase}): committed at offset ${a.result.offset} after ${waited}`,
    });
    return;
  }
  const e = a.error!;
  const epoch = e.epoch !== null ? ` — it reports epoch ${e.epoch}` : '';
  const points = e.leader ? ` and points to ${e.leader.id}` : '';
  ctx.record({
    at: a.answeredAt,
    kind: `refused-${item.phase}`,
    source: 'broker',
    ref,
    tone: 'bad',
    broker: a.brokerId,
    ...(e.epoch !== null ? { epoch: e.epoch } : {}),
    text: `${a.brokerId} refused write #${item.n} (${item.phase}) after ${waited}: ${a.status || ''} ${e.code}${epoch}${points}. “${e.message}”`,
  });
}

/** This run's records in the partition, from `from` on, as the leader serves them (committed only). */
async function readRun(ctx: LessonContext, run: string, from: number): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = [];
  let offset = from;
  for (let page = 0; page < 20; page++) {
    const answer = await ctx.api.consume({ topic: ZOMBIE_TOPIC, partition: 0, offset, max: 500 });
    out.push(...answer.records.filter((r) => (r.payload as ZombiePayload | null)?.run === run));
    if (answer.records.length === 0 || answer.nextOffset >= answer.highWatermark) break;
    offset = answer.nextOffset;
    await sleep(0);
  }
  return out;
}

function verdict(
  ctx: LessonContext,
  run: { old: { id: string; epoch: number }; next: { id: string; epoch: number }; sent: Sent[]; log: ConsumedRecord[] },
): string {
  const inLog = new Map(run.log.map((r) => [(r.payload as ZombiePayload).n, r.offset]));
  let lost = 0;
  for (const s of [...run.sent].sort((a, b) => a.n - b.n)) {
    const at = inLog.get(s.n);
    if (s.answer.result) {
      const ok = at === s.answer.result.offset;
      if (!ok) lost++;
      ctx.record({ kind: ok ? 'log-has' : 'log-lost', source: 'broker', tone: ok ? 'ok' : 'bad', offset: s.answer.result.offset, partition: 0, text: ok ? `In the log: write #${s.n} at offset ${at}, as acknowledged` : `Write #${s.n} was acknowledged at offset ${s.answer.result.offset} but the log has ${at ?? 'nothing'} there` });
    } else {
      ctx.record(
        at === undefined
          ? { kind: 'log-absent', source: 'broker', tone: 'ok', text: `Not in the log: write #${s.n}, refused by ${s.answer.brokerId} (${s.answer.error!.code})` }
          : { kind: 'log-unexpected', source: 'broker', tone: 'bad', offset: at, partition: 0, text: `Write #${s.n} was refused (${s.answer.error!.code}) yet is in the log at offset ${at}: its outcome was unknown, and it was committed after all` },
      );
    }
  }
  const frozen = run.sent.filter((s) => s.phase === 'frozen');
  const refused = frozen.filter((s) => !s.answer.result);
  const codes = [...new Set(refused.map((s) => s.answer.error!.code))].join(' / ');
  const epochs = [...new Set(refused.map((s) => s.answer.error!.epoch).filter((e): e is number => e !== null))];
  const saidEpoch = epochs.length ? ` (it still reported epoch ${epochs.join(', ')})` : '';
  return [
    `While ${run.old.id} was frozen it could not renew its lease, so once the lease ran out Redis gave the lead to ${run.next.id} with epoch ${run.next.epoch}.`,
    refused.length === frozen.length
      ? `When ${run.old.id} woke up, its own monotonic clock told it the lease of epoch ${run.old.epoch} had expired: it answered the ${frozen.length} writes that had waited in its socket with ${codes}${saidEpoch} instead of writing them — and had it tried to replicate, the followers, already at epoch ${run.next.epoch}, would have refused its older epoch (STALE_EPOCH).`
      : `When ${run.old.id} woke up, ${frozen.length - refused.length} of the ${frozen.length} writes that waited for it were acknowledged — look at the timeline for who answered and with which epoch.`,
    lost === 0 ? 'Every acknowledged write is in the log at its offset; no refused write is.' : `${lost} acknowledged write(s) are not where they were acknowledged — that would break YAK's first guarantee.`,
  ].join(' ');
}
