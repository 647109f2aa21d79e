import { performance } from 'node:perf_hooks';
import type { BrokerProcess } from '../../testkit/broker/process.js';
import type { HttpConnection } from '../http-conn.js';
import { produceBody } from '../payload.js';
import { sleep } from '../rounds.js';
import { median, present } from '../stats.js';
import type { Row } from '../types.js';
import { ensureTopic, leaderUrl, type WorkloadContext } from './context.js';

const TOPIC = 'bench-failover';
const GIVE_UP_MS = 30_000;
/** Between tries on one broker that answered NOT_LEADER: the resolution of the figure. */
const RETRY_MS = 5;
const SLACK_MS = 300;

/**
 * The leader is stopped (SIGKILL, or SIGTERM which releases the lease); from that moment, every
 * surviving broker is asked to produce, again and again, and the figure is the time until the
 * first produce is acknowledged, i.e. committed by the new leader. Then the old leader is
 * restarted and the cluster waits for all three in sync before the next round. SIGKILL and SIGTERM
 * rounds alternate.
 */
export async function failover(ctx: WorkloadContext): Promise<Row[]> {
  const cluster = ctx.env.cluster;
  const leaseMs = ctx.env.settings.leaseSeconds * 1000;
  await ensureTopic(await leaderUrl(ctx), TOPIC, ctx.env.settings.partitions, ctx.env.connection);
  const kills: (number | null)[] = [];
  const terms: (number | null)[] = [];

  const round = async (signal: 'SIGKILL' | 'SIGTERM') => {
    await cluster.waitForInSync(cluster.brokers.length, 30_000);
    const { broker: old } = await cluster.waitForLeader();
    const survivors = cluster.brokers.filter((b) => b !== old);
    const conns = await Promise.all(survivors.map((b) => ctx.env.connect(b.url)));
    const start = performance.now();
    const stopping = signal === 'SIGKILL' ? old.kill() : old.stop(10_000);
    const committedAt = await firstCommit(survivors, conns, start + GIVE_UP_MS, (url) => ctx.env.connect(url, 1000));
    const ms = committedAt === null ? null : committedAt - start;
    (signal === 'SIGKILL' ? kills : terms).push(ms);
    ctx.log(`failover ${signal}: ${ms === null ? 'no commit' : `${Math.round(ms)} ms`} (old leader ${old.id})`);
    await stopping;
    old.start();
  };

  for (let r = 0; r < ctx.options.failoverRounds; r++) {
    await round('SIGKILL');
    await round('SIGTERM');
  }
  await cluster.waitForInSync(cluster.brokers.length, 30_000);

  const row = (signal: string, values: (number | null)[], limit: number, limitText: string): Row => {
    const yak = median(present(values));
    return {
      id: `failover.${signal.toLowerCase()}_ms`,
      figure: `failover after ${signal}`,
      unit: 'ms',
      yak,
      comparison: { label: 'the lease', value: leaseMs },
      ratio: yak === null ? null : median(present(values).map((v) => v / leaseMs)),
      target: { text: limitText, met: yak === null ? null : yak <= limit },
      rounds: { yak: values },
      notes: `stop of the leader → first produce acknowledged by the new leader; lease ${leaseMs} ms, renew ${ctx.env.settings.renewSeconds * 1000} ms`,
    };
  };
  return [
    row('SIGKILL', kills, leaseMs + SLACK_MS, `≤ lease + ${SLACK_MS} ms`),
    row('SIGTERM', terms, SLACK_MS, `≤ ${SLACK_MS} ms`),
  ];
}

/** Produces through every survivor until one acknowledges; the moment it did, or null at `deadline`. */
async function firstCommit(brokers: BrokerProcess[], conns: HttpConnection[], deadline: number, connect: (url: string) => Promise<HttpConnection>): Promise<number | null> {
  let done: number | null = null;
  await Promise.all(
    brokers.map(async (b, i) => {
      let conn: HttpConnection | null = conns[i]!;
      for (let seq = 0; done === null && performance.now() < deadline; seq++) {
        try {
          conn ??= await connect(b.url);
          const r = await conn.request('POST', '/produce', produceBody(TOPIC, seq));
          if (r.status === 200) {
            done ??= performance.now();
            break;
          }
        } catch {
          conn?.close();
          conn = null;
        }
        await sleep(RETRY_MS);
      }
      conn?.close();
    }),
  );
  return done;
}
