import { performance } from 'node:perf_hooks';
import { GroupConsumer, YakClient, YakClientError } from '../../broker-runtime/src/client/index.js';
import { alternate, runFor, sleep } from '../rounds.js';
import { median, pairedRatios, present } from '../stats.js';
import type { Row } from '../types.js';
import { leaderUrl, type WorkloadContext } from './context.js';

const TOPIC = 'bench-groups';
const FILL_BATCH = 1000;
/** Concurrent commit loops (each its own partition of one member's assignment). */
const COMMITTERS = 4;
const HEARTBEAT_MS = 100;

/**
 * Consumer groups (docs/consumer-groups.md), through the typed client as an application uses them:
 * how long a rebalance from 1 to 4 members takes, commits per second (each replicated like a record
 * before it is answered), and a GroupConsumer reading everything beside plain per-partition consumes
 * by the same client.
 */
export async function groups(ctx: WorkloadContext): Promise<Row[]> {
  const { env, options } = ctx;
  const url = await leaderUrl(ctx);
  const client = new YakClient({ brokers: env.cluster.urls(), ...(env.connection.token ? { token: env.connection.token } : {}), ...(env.connection.ca ? { ca: env.connection.ca } : {}) });
  const partitions = Math.max(4, env.settings.partitions);
  await client.createTopic(TOPIC, partitions).catch((err: unknown) => {
    if (!(err instanceof YakClientError && err.code === 'TOPIC_EXISTS')) throw err;
  });
  const total = Math.ceil(options.consumeRecords / 3 / FILL_BATCH) * FILL_BATCH;
  for (let n = 0; n < total; n += FILL_BATCH) {
    await client.produceBatch(TOPIC, Array.from({ length: FILL_BATCH }, (_, i) => ({ partition: (n + i) % partitions, payload: { n: n + i, pad: 'x'.repeat(64) } })));
  }
  ctx.log(`groups: ${total} records in ${TOPIC} (${partitions} partitions) on ${url}`);

  const rebalance: (number | null)[] = [];
  for (let r = 0; r < options.rounds; r++) rebalance.push(await rebalanceOneToFour(client, `bench-rebalance-${r}`));

  const commits: (number | null)[] = [];
  for (let r = 0; r < options.rounds; r++) commits.push(await commitRate(client, `bench-commit-${r}`, options.roundMs));

  const grouped: (number | null)[] = [];
  const plain: (number | null)[] = [];
  let round = 0;
  await alternate(options.rounds, [
    async () => void grouped.push(await groupRead(client, `bench-read-${round++}`, total)),
    async () => void plain.push(await plainRead(client, partitions, total)),
  ]);
  ctx.log(`groups: rebalance ${rebalance.map((v) => Math.round(v ?? 0)).join(', ')} ms; commits ${commits.map((v) => Math.round(v ?? 0)).join(', ')}/s; group read ${grouped.map((v) => Math.round(v ?? 0)).join(', ')} vs plain ${plain.map((v) => Math.round(v ?? 0)).join(', ')} records/s`);
  return [
    {
      id: 'groups.rebalance_1_to_4_ms',
      figure: 'group rebalance, 1 → 4 members',
      unit: 'ms',
      yak: median(present(rebalance)),
      comparison: null,
      ratio: null,
      rounds: { yak: rebalance },
      notes: `three members join a group of one at once; until all four hold their partitions of generation 2 (the first member learns of the rebalance from a heartbeat every ${HEARTBEAT_MS} ms)`,
    },
    {
      id: 'groups.commits_per_s',
      figure: `offset commits, ${COMMITTERS} at a time`,
      unit: 'commits/s',
      yak: median(present(commits)),
      comparison: null,
      ratio: null,
      rounds: { yak: commits },
      notes: 'each commit is written to __consumer_offsets and replicated to every in-sync replica before it is answered',
    },
    {
      id: 'groups.consume_records_per_s',
      figure: `group consumer reads ${total.toLocaleString('en')}`,
      unit: 'records/s',
      yak: median(present(grouped)),
      comparison: { label: 'plain consume, same client', value: median(present(plain)) },
      ratio: median(pairedRatios(grouped, plain)),
      rounds: { yak: grouped, comparison: plain },
      notes: 'GroupConsumer (join, fetch committed offsets, eachBatch, auto-commit) against a YakClient.consume loop per partition',
    },
  ];
}

async function rebalanceOneToFour(client: YakClient, group: string): Promise<number | null> {
  const join = (memberId?: string) => client.joinGroup(group, { topics: [TOPIC], sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, ...(memberId ? { memberId } : {}) });
  const first = await join();
  const start = performance.now();
  const joins = [join(), join(), join()];
  let rejoined = null;
  for (;;) {
    try {
      await client.heartbeat(group, first.member_id, first.generation);
    } catch (err) {
      if (err instanceof YakClientError && err.code === 'REBALANCE_IN_PROGRESS') {
        rejoined = await join(first.member_id);
        break;
      }
      throw err;
    }
    await sleep(HEARTBEAT_MS);
  }
  const others = await Promise.all(joins);
  const elapsed = performance.now() - start;
  const all = [rejoined, ...others];
  const ok = all.every((a) => a.generation === rejoined.generation) && all.reduce((n, a) => n + a.partitions.length, 0) > 0;
  await Promise.all(all.map((a) => client.leaveGroup(group, a.member_id)));
  return ok ? elapsed : null;
}

async function commitRate(client: YakClient, group: string, ms: number): Promise<number> {
  const member = await client.joinGroup(group, { topics: [TOPIC], sessionTimeoutMs: 30_000 });
  const mine = member.partitions.slice(0, COMMITTERS);
  let n = 0;
  const elapsed = await runFor(ms, mine.length, async (w) => {
    const p = mine[w]!;
    // Offsets only grow (a lower one would not be written); stay within the high-water mark.
    await client.commitOffsets(group, [{ topic: TOPIC, partition: p.partition, offset: (n % 100) + Math.floor(n / 100) }], { memberId: member.member_id, generation: member.generation });
    n++;
  });
  await client.leaveGroup(group, member.member_id);
  return (n * 1000) / elapsed;
}

async function groupRead(client: YakClient, group: string, total: number): Promise<number> {
  const consumer = new GroupConsumer(client, { group, topics: [TOPIC], maxRecords: 10_000, waitMs: 0, autoCommitIntervalMs: 500 });
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  await consumer.run({
    eachBatch: (batch) => {
      n += batch.records.length;
      if (n >= total && elapsed === 0) {
        elapsed = performance.now() - start;
        void consumer.close();
      }
    },
  });
  return (n * 1000) / elapsed;
}

async function plainRead(client: YakClient, partitions: number, total: number): Promise<number> {
  const start = performance.now();
  const counts = await Promise.all(
    Array.from({ length: partitions }, async (_, p) => {
      let offset = 0;
      let n = 0;
      for (;;) {
        const a = await client.consume(TOPIC, p, offset, { max: 10_000 });
        if (a.records.length === 0) return n;
        n += a.records.length;
        offset = a.next_offset;
      }
    }),
  );
  const n = counts.reduce((a, b) => a + b, 0);
  if (n !== total) throw new Error(`plain consume read ${n} records, expected ${total}`);
  return (n * 1000) / (performance.now() - start);
}
