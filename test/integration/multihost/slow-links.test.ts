// run-tests: quiet — it checks that no leader changes and that a follower keeps its place in the
// in-sync set through fixed windows of slow and lossy links: a busy file beside it could starve a
// renewal or a replication answer. Its hosts live in their own network namespaces (like
// multihost.test.ts), so its fixed addresses and ports clash with nothing.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BROKER_BIN } from '../../../testkit/broker/process.js';
import { percentile } from '../../../testkit/stats.js';
import { sleep, waitFor } from '../../../testkit/wait.js';
import { Agent, Network, namespacesUnavailable, qdiscsUnavailable } from './netns.js';

/**
 * Slow links between brokers, as between machines in different rooms or regions: brokers a, b, c
 * on hosts of their own (network namespaces on a private bridge, as in multihost.test.ts), Redis
 * and a client on two more. a leads (started first); b is the follower whose link is slowed.
 *
 * Each broker advertises a port served by a chaos TcpProxy on its own host, in front of its
 * listener, so every connection the others make to it (the leader's replication stream) crosses a
 * link the test controls. Delay and loss are emulated there because this kernel may have no netem
 * (`tc qdisc ... netem`; the reason is logged): a delay holds every chunk `ms` each way; loss holds
 * a chunk (and the stream behind it) one retransmission timeout longer at the given rate, which is
 * what TCP makes of a lost segment. Bandwidth is limited in the kernel, with tbf on both ends of
 * b's veth (skipped where tbf is missing).
 *
 *  (a) 150 ms round trip to b: no leader change, b stays in sync, a burst of 200 concurrent single
 *      produces is not serialised per round trip, nothing lost.
 *  (b) 4% of chunks stalled 200 ms on b's link under a steady producer: no leader change, b never
 *      leaves the in-sync set, every acknowledged record on every replica.
 *  (c) 1 mbit to b during 3 MB of batch produces: b falls behind and leaves the in-sync set (the
 *      2 s replica lag) while producers go on (--min-insync 1), and catches up once the limit is lifted.
 */
const unavailable = namespacesUnavailable();
const qdiscs = unavailable ? { netem: unavailable, tbf: unavailable } : qdiscsUnavailable();
const REDIS_IP = '10.77.0.10';
const HOSTS = { a: '10.77.0.11', b: '10.77.0.12', c: '10.77.0.13' } as const;
type Host = keyof typeof HOSTS;
const NAMES = Object.keys(HOSTS) as Host[];
/** Where each broker listens; LINK_PORT (a proxy on the same host) is what it advertises. */
const PORT = 5001;
const LINK_PORT = 5002;
const urlOf = (h: Host) => `http://${HOSTS[h]}:${LINK_PORT}`;
const LEADER: Host = 'a';
const SLOW: Host = 'b';
/** Each way: a 150 ms round trip. */
const ONE_WAY_MS = 75;
const RTT_MS = 2 * ONE_WAY_MS;

interface Ack {
  seq: number;
  partition: number;
  offset: number;
  ms?: number;
}

describe('slow links between brokers (network namespaces)', { skip: unavailable ?? false }, () => {
  let net: Network;
  let dir: string;
  const agents = {} as Record<Host | 'client', Agent>;
  const brokers = new Map<Host, { proc: ChildProcess; lines: { at: number; line: string }[] }>();
  const figures: string[] = [];

  const startBroker = (h: Host) => {
    const lines: { at: number; line: string }[] = [];
    const proc = net.spawn(h, process.execPath, [
      BROKER_BIN,
      '--id', h,
      '--host', HOSTS[h],
      '--port', String(PORT),
      '--advertised-url', urlOf(h),
      '--redis', `redis://${REDIS_IP}:6379`,
      '--cluster', 'links',
      '--data-dir', join(dir, h),
      '--partitions', '3',
      '--insecure',
      '--lease-seconds', '3',
      '--renew-seconds', '0.75',
      '--replica-lag-seconds', '2',
    ], (line) => {
      lines.push({ at: Date.now(), line });
      if (lines.length > 5000) lines.splice(0, 1000);
    });
    brokers.set(h, { proc, lines });
  };
  const log = (h: Host, since = 0) => brokers.get(h)!.lines.filter((l) => l.at >= since).map((l) => l.line);
  const tails = () => NAMES.map((h) => `--- ${h}\n${log(h).slice(-15).join('\n')}`).join('\n');
  const fail = (err: Error): never => {
    throw new Error(`${err.message}\n${tails()}`);
  };

  const leaderOf = async (h: Host) => (await agents.client.http<{ leader: { id: Host } | null; epoch: number }>(`${urlOf(h)}/metadata/leader`, 'GET', undefined, 2000)).body;
  const cluster = async () => (await agents.client.http<{ brokers: { id: Host; in_sync: boolean; alive: boolean }[] }>(`${urlOf(LEADER)}/metadata/cluster`, 'GET', undefined, 2000)).body;
  const inSync = async (h: Host) => (await cluster())?.brokers.some((b) => b.id === h && b.in_sync) ?? false;
  const allInSync = (what: string, timeoutMs = 20_000) =>
    waitFor(what, async () => ((await cluster())?.brokers.filter((b) => b.in_sync && b.alive).length ?? 0) === 3, timeoutMs, 200).catch(fail);
  const epoch = async () => (await leaderOf(LEADER))?.epoch ?? -1;
  /** Nothing in any broker's log since `t0` says leadership moved. */
  const assertNoLeaderChange = (t0: number, epochBefore: number, epochAfter: number, what: string) => {
    assert.equal(epochAfter, epochBefore, `${what}: the leader's epoch moved\n${tails()}`);
    for (const h of NAMES) assert.ok(!log(h, t0).some((x) => x.includes('stepped down')), `${what}: ${h} stepped down\n${tails()}`);
  };
  /** The leader's warnings since `t0`, for the figures: a slow link should cause none, or say clearly why. */
  const warnings = (since: number) => {
    const w = log(LEADER, since).filter((x) => x.includes(' WARN '));
    return w.length === 0 ? 'no warning from the leader' : `${w.length} warning(s) from the leader, first: ${w[0]!.replace(/^\S+ /, '')}`;
  };
  const shrinks = (since: number) => log(LEADER, since).filter((x) => x.includes(`in-sync set shrank without ${SLOW}`)).length;

  /** Every acknowledged record, at its offset, in every broker's log (each read once its high-water mark reached the leader's). */
  const assertOnEveryReplica = async (topic: string, acks: Ack[]) => {
    const hwms = async (h: Host) => {
      const a = await agents.client.http<{ topics: { name: string; partitions: { partition: number; high_watermark: number }[] }[] }>(`${urlOf(h)}/topics`, 'GET', undefined, 5000);
      return JSON.stringify(a.body?.topics.find((t) => t.name === topic)?.partitions.map((p) => p.high_watermark) ?? null);
    };
    const want = await hwms(LEADER);
    for (const h of NAMES) {
      await waitFor(`${h} has the leader's high-water marks ${want}`, async () => (await hwms(h)) === want, 20_000, 200).catch(fail);
      const stored = await agents.client.call<{ partition: number; offset: number; payload: { seq: number } }[]>('read-all', { url: urlOf(h), topic });
      const at = new Map(stored.map((r) => [`${r.partition}/${r.offset}`, r.payload?.seq]));
      const missing = acks.filter((a) => at.get(`${a.partition}/${a.offset}`) !== a.seq);
      assert.equal(missing.length, 0, `${h} lacks ${missing.length} acknowledged records: ${JSON.stringify(missing.slice(0, 5))}`);
    }
  };

  /** Acknowledged offsets are unique and, per partition, one run with no gap (nothing else wrote to `topic`). */
  const assertOffsetsDense = (acks: Ack[]) => {
    for (let p = 0; p < 3; p++) {
      const offsets = acks.filter((a) => a.partition === p).map((a) => a.offset).sort((x, y) => x - y);
      assert.equal(new Set(offsets).size, offsets.length, `partition ${p}: an offset acknowledged twice`);
      for (let i = 1; i < offsets.length; i++) assert.equal(offsets[i], offsets[i - 1]! + 1, `partition ${p}: a gap after offset ${offsets[i - 1]}`);
    }
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'yak-slow-links-'));
    net = new Network(`ysl${process.pid % 100000}`);
    net.create();
    net.addHost('redis', 10);
    for (const h of NAMES) net.addHost(h, Number(HOSTS[h].split('.')[3]));
    net.addHost('client', 20);
    const redisOut: string[] = [];
    // Protected mode is off only inside these namespaces, which reach nothing else.
    net.spawn('redis', 'redis-server', ['--bind', REDIS_IP, '--port', '6379', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], (l) => redisOut.push(l));
    for (const h of [...NAMES, 'client'] as const) agents[h] = new Agent(net, h);
    await Promise.all(Object.values(agents).map((a) => a.ready));
    await waitFor('redis-server ready', () => redisOut.some((l) => l.includes('Ready to accept connections')), 10_000, 50).catch((err: Error) => {
      throw new Error(`${err.message}: ${redisOut.join('\n')}`);
    });
    for (const h of NAMES) await agents[h].call('link-proxy', { listenHost: HOSTS[h], listenPort: LINK_PORT, targetPort: PORT });
    figures.push(`netem: ${qdiscs.netem ?? 'available (not needed: delay and loss are emulated in the link proxy)'}; tbf: ${qdiscs.tbf ?? 'available'}`);
  });

  after(async () => {
    await net?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
    if (figures.length) console.log(`slow-link figures:\n  ${figures.join('\n  ')}`);
  });

  test('a leads, b and c in sync', async () => {
    startBroker(LEADER);
    await waitFor('a leads', async () => (await leaderOf(LEADER))?.leader?.id === LEADER, 20_000, 200).catch(fail);
    startBroker('b');
    startBroker('c');
    await allInSync('three brokers in sync');
  });

  test(`(a) a ${RTT_MS} ms round trip to follower b: no leader change, b stays in sync, a burst of 200 produces is pipelined, nothing lost`, async () => {
    // The same burst with no delay first, for the figures (its records count for the offsets below).
    const baseline = await agents.client.call<{ acks: Ack[]; failures: number; lastError: string; totalMs: number }>('burst', { brokers: [urlOf(LEADER)], topic: 'rtt', n: 200 });
    assert.equal(baseline.failures, 0, baseline.lastError);
    const epochBefore = await epoch();
    const t0 = Date.now();
    await agents[SLOW].call('link', { ms: ONE_WAY_MS });
    const single: number[] = [];
    const acks: Ack[] = [...baseline.acks];
    for (let i = 0; i < 20; i++) {
      const r: { acks: Ack[]; failures: number; lastError: string } = await agents.client.call('burst', { brokers: [urlOf(LEADER)], topic: 'rtt', n: 1 });
      assert.equal(r.failures, 0, r.lastError);
      single.push(r.acks[0]!.ms!);
      acks.push({ ...r.acks[0]!, seq: 0 });
    }
    const burst = await agents.client.call<{ acks: Ack[]; failures: number; lastError: string; totalMs: number }>('burst', { brokers: [urlOf(LEADER)], topic: 'rtt', n: 200 });
    assert.equal(burst.failures, 0, burst.lastError);
    assert.equal(burst.acks.length, 200);
    // One topic, 200 + 20 singles + 200: the offsets of all 420 form one gap-free run per partition.
    assertOffsetsDense([...acks, ...burst.acks]);
    // Not serialised per round trip: one frame per produce would take 200 round trips (30 s); half
    // of that is a bound no loaded machine comes near when records share frames (1-2 s here).
    assert.ok(burst.totalMs < (200 * RTT_MS) / 2, `200 concurrent produces took ${burst.totalMs} ms at a ${RTT_MS} ms round trip: serialised?`);
    await sleep(3000); // longer than the replica lag, idle: b must stay in sync between bursts too
    assert.ok(await inSync(SLOW), `b in sync at ${RTT_MS} ms\n${tails()}`);
    assert.equal(shrinks(t0), 0, `b never left the in-sync set\n${tails()}`);
    assertNoLeaderChange(t0, epochBefore, await epoch(), `${RTT_MS} ms to b`);
    await assertOnEveryReplica('rtt', [...baseline.acks, ...burst.acks]);
    await agents[SLOW].call('link', { ms: 0 });
    const ms = burst.acks.map((a) => a.ms!);
    figures.push(
      `(a) ${RTT_MS} ms round trip to follower b: single produce p50 ${percentile(single, 50)} ms, max ${Math.max(...single)} ms (20 one at a time); ` +
        `200 concurrent: p50 ${percentile(ms, 50)} ms, p99 ${percentile(ms, 99)} ms, all in ${burst.totalMs} ms (serialised would be ≥ ${200 * RTT_MS} ms; the same burst with no delay: p50 ${percentile(baseline.acks.map((a) => a.ms!), 50)} ms, all in ${baseline.totalMs} ms); leader kept epoch ${epochBefore}, b in sync throughout; ${warnings(t0)}`,
    );
  });

  test('(b) 4% of chunks on b\'s link held one retransmission timeout (200 ms): no leader change, b stays in sync, every acknowledged record on every replica', async () => {
    const epochBefore = await epoch();
    const t0 = Date.now();
    await agents[SLOW].call('link', { ms: 2, stall: { probability: 0.04, ms: 200 } });
    await agents.client.call('produce-start', { brokers: [urlOf(LEADER)], topic: 'lossy' });
    await sleep(10_000);
    const result = await agents.client.call<{ acks: Ack[]; failures: number; lastError: string }>('produce-stop');
    assert.equal(result.failures, 0, result.lastError);
    assert.ok(result.acks.length > 0);
    assert.ok(await inSync(SLOW), `b in sync on a lossy link\n${tails()}`);
    assert.equal(shrinks(t0), 0, `b never left the in-sync set\n${tails()}`);
    assertNoLeaderChange(t0, epochBefore, await epoch(), 'a lossy link to b');
    assertOffsetsDense(result.acks);
    await assertOnEveryReplica('lossy', result.acks);
    await agents[SLOW].call('link', { ms: 0 });
    figures.push(`(b) 4% of chunks to/from b held 200 ms for 10 s: ${result.acks.length} records acknowledged one at a time, on all three replicas, b in sync throughout, leader kept epoch ${epochBefore}; ${warnings(t0)}`);
  });

  test('(c) b limited to 1 mbit during 3 MB of batch produces: b falls behind and leaves the in-sync set, producers go on, b catches up once the limit is lifted', { skip: qdiscs.tbf ?? false }, async () => {
    // A topic that needs all three replicas (min.insync.replicas 3): what --min-insync demands.
    const created = await agents.client.http(`${urlOf(LEADER)}/topics`, 'POST', { name: 'strict', partitions: 1, config: { 'min.insync.replicas': 3 } }, 10_000);
    assert.equal(created.status, 201, JSON.stringify(created));
    const epochBefore = await epoch();
    const t0 = Date.now();
    net.limitRate(SLOW, '1mbit');
    let lifted = false;
    try {
      // 6 batches of 50 records of 10 KB: 3 MB, 24 s at 1 mbit; the first alone takes b 4 s, twice the replica lag.
      const r = await agents.client.call<{ acks: Ack[]; totalMs: number }>('batches', { brokers: [urlOf(LEADER)], topic: 'bulk', batches: 6, records: 50, bytes: 10_000 });
      assert.equal(r.acks.length, 300);
      assertOffsetsDense(r.acks);
      await waitFor('the leader says b left the in-sync set', () => shrinks(t0) > 0, 10_000, 100).catch(fail);
      assert.equal(await inSync(SLOW), false, 'b out of the in-sync set while limited');
      // The leader says why, in numbers: how long b was not caught up, against which flag, how far behind.
      const why = log(LEADER, t0).find((x) => x.includes(`shrank without ${SLOW}`))!;
      // Producers to a topic needing b are refused at once (not held), the others went on above.
      const strict = await agents.client.http<{ error: string; in_sync: number; min_insync: number }>(`${urlOf(LEADER)}/produce`, 'POST', { topic: 'strict', payload: 'needs b' }, 10_000);
      assert.equal(strict.status, 503, JSON.stringify(strict));
      assert.equal(strict.body?.error, 'NOT_ENOUGH_REPLICAS', JSON.stringify(strict));
      assert.match(why, /not caught up for \d+ ms, longer than the replica lag \(--replica-lag-seconds 2\); [1-9]\d* record\(s\) behind/, why);
      const batchMs = [...new Set(r.acks.map((a) => a.ms!))];
      const tLift = Date.now();
      net.unlimitRate(SLOW);
      lifted = true;
      await allInSync('b back in sync once the limit is lifted', 30_000);
      const backMs = Date.now() - tLift;
      assert.ok(log(LEADER, tLift).some((x) => x.includes(`in-sync set expanded with ${SLOW}`)), `the leader says b is back\n${tails()}`);
      assertNoLeaderChange(t0, epochBefore, await epoch(), '1 mbit to b');
      const again = await agents.client.http(`${urlOf(LEADER)}/produce`, 'POST', { topic: 'strict', payload: 'b is back' }, 10_000);
      assert.equal(again.status, 200, JSON.stringify(again));
      await assertOnEveryReplica('bulk', r.acks);
      figures.push(
        `(c) 1 mbit to b, 6 batches × 50 × 10 KB (3 MB): all acknowledged in ${r.totalMs} ms (per batch: max ${Math.max(...batchMs)} ms, p50 ${percentile(batchMs, 50)} ms; the first ones wait out the 2 s replica lag); ` +
          `a produce to a topic with min.insync.replicas 3 refused 503 NOT_ENOUGH_REPLICAS while b was out (accepted once back); b left the in-sync set ${shrinks(t0)} time(s) ("${why.replace(/^.*in-sync set/, 'in-sync set')}"), back in sync ${backMs} ms after the limit was lifted`,
      );
    } finally {
      if (!lifted) net.unlimitRate(SLOW);
    }
  });
});
