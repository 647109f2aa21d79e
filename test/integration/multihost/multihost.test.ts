// run-tests: quiet — it checks that no leader changes through fixed windows at 100 and 300 ms round
// trips to Redis: a busy file beside it could starve a renewal. Itself it uses under half a core
// (20-24 s of CPU in 57-69 s), so it may share the machine with another quiet file; its hosts live in
// their own network namespaces, so its fixed addresses and ports clash with nothing.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BROKER_BIN } from '../../../testkit/broker/process.js';
import { sleep, waitFor } from '../../../testkit/wait.js';
import { Agent, Network, namespacesUnavailable } from './netns.js';

/**
 * Issue 16: brokers on separate hosts. Five network namespaces on a private bridge (10.77.0.0/24,
 * nowhere else): Redis (.10, password, bound to its address), brokers a, b, c (.11–.13, each
 * listening on its own address and advertising it) and a client (.20) that produces through the
 * real client all along. Each broker reaches Redis through a chaos TcpProxy on its own host, so a
 * delay is added the way the chaos harness adds it. Faults: the leader's cable unplugged, the
 * leader cut from Redis only (black-hole routes), a follower unplugged, 100 ms and 300 ms round
 * trips to Redis. Invariant: no acknowledged record lost; at 300 ms with the default lease, no
 * change of leader without a fault. Failover times are printed.
 */
const unavailable = namespacesUnavailable();
const REDIS_IP = '10.77.0.10';
const HOSTS = { a: '10.77.0.11', b: '10.77.0.12', c: '10.77.0.13' } as const;
type Host = keyof typeof HOSTS;
const NAMES = Object.keys(HOSTS) as Host[];
const PORT = 5001;
const PASSWORD = randomBytes(12).toString('hex');
const urlOf = (h: Host) => `http://${HOSTS[h]}:${PORT}`;

interface Ack {
  seq: number;
  partition: number;
  offset: number;
  at: number;
}

describe('brokers on three hosts (network namespaces)', { skip: unavailable ?? false }, () => {
  let net: Network;
  let dir: string;
  const agents = {} as Record<Host | 'client', Agent>;
  const brokers = new Map<Host, { proc: ChildProcess; lines: { at: number; line: string }[] }>();
  const figures: string[] = [];
  let acked: Ack[] = [];

  const startBroker = (h: Host, cluster: string, timing: string[]) => {
    const lines: { at: number; line: string }[] = [];
    const proc = net.spawn(h, process.execPath, [
      BROKER_BIN,
      '--id', h,
      '--host', HOSTS[h],
      '--port', String(PORT),
      '--advertised-url', urlOf(h),
      '--redis', `redis://:${PASSWORD}@127.0.0.1:6380`,
      '--cluster', cluster,
      '--data-dir', join(dir, cluster, h),
      '--partitions', '3',
      '--insecure',
      ...timing,
    ], (line) => {
      lines.push({ at: Date.now(), line });
      if (lines.length > 5000) lines.splice(0, 1000);
    });
    brokers.set(h, { proc, lines });
  };
  const log = (h: Host, since = 0) => brokers.get(h)!.lines.filter((l) => l.at >= since).map((l) => l.line);
  const tails = () => NAMES.map((h) => `--- ${h}\n${log(h).slice(-15).join('\n')}`).join('\n');

  /** The leader named with the highest epoch by any broker the client can reach (excluding `not`). */
  const leader = async (not: Host[] = []): Promise<{ id: Host; epoch: number } | null> => {
    let best: { id: Host; epoch: number } | null = null;
    for (const h of NAMES.filter((x) => !not.includes(x))) {
      const a = await agents.client.http<{ leader: { id: Host } | null; epoch: number }>(`${urlOf(h)}/metadata/leader`, 'GET', undefined, 1000);
      const named = a.body?.leader?.id;
      if (named && !not.includes(named) && (!best || a.body!.epoch > best.epoch)) best = { id: named, epoch: a.body!.epoch };
    }
    return best;
  };
  const allInSync = (what: string, timeoutMs = 20_000) =>
    waitFor(what, async () => {
      const l = await leader();
      if (!l) return null;
      const c = await agents.client.http<{ brokers: { id: string; in_sync: boolean; alive: boolean }[] }>(`${urlOf(l.id)}/metadata/cluster`);
      const inSync = c.body?.brokers.filter((b) => b.in_sync && b.alive).length ?? 0;
      return inSync === 3 ? l : null;
    }, timeoutMs, 200).catch((err: Error) => {
      throw new Error(`${err.message}\n${tails()}`);
    });
  /** Records the client got acknowledged so far (the producer keeps running). */
  const peek = async (since = Date.now() - 1000): Promise<Ack[]> => (await agents.client.call<{ acks: Ack[] }>('produce-peek', { since })).acks;
  /**
   * A fault at `t0`: wait for a write acknowledged after `resumedAfter` (once a new leader is known),
   * then the longest stretch without an acknowledged write from `t0` on — the failover time a
   * producer sees (an old leader cut from Redis only keeps acknowledging until its lease runs out).
   */
  const outage = async (t0: number, resumedAfter: number, what: string, timeoutMs = 30_000) => {
    await waitFor(`a write acknowledged after ${what}`, async () => (await peek(resumedAfter)).length > 0, timeoutMs, 100);
    const acks = await peek(t0 - 1);
    return Math.max(0, ...acks.map((a, i) => a.at - (i === 0 ? t0 : acks[i - 1]!.at)));
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'yak-multihost-'));
    net = new Network();
    net.create();
    net.addHost('redis', 10);
    for (const h of NAMES) net.addHost(h, Number(HOSTS[h].split('.')[3]));
    net.addHost('client', 20);
    const redisOut: string[] = [];
    // Bound to its private address, with a password (protected mode stays on): what the README asks for a cluster.
    net.spawn('redis', 'redis-server', ['--bind', REDIS_IP, '--port', '6379', '--save', '', '--appendonly', 'no', '--requirepass', PASSWORD], (l) => redisOut.push(l));
    for (const h of [...NAMES, 'client'] as const) agents[h] = new Agent(net, h);
    await Promise.all(Object.values(agents).map((a) => a.ready));
    await waitFor('redis-server ready', () => redisOut.some((l) => l.includes('Ready to accept connections')), 10_000, 50).catch((err: Error) => {
      throw new Error(`${err.message}: ${redisOut.join('\n')}`);
    });
    for (const h of NAMES) await agents[h].call('proxy', { listenPort: 6380, targetHost: REDIS_IP, targetPort: 6379 });
  });

  after(async () => {
    await net?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
    if (figures.length) console.log(`multi-host figures:\n  ${figures.join('\n  ')}`);
  });

  test('three hosts form one cluster: one leader, every broker in sync, every advertised URL checks out', async () => {
    for (const h of NAMES) startBroker(h, 'mh', ['--lease-seconds', '2', '--renew-seconds', '0.5']);
    const l = await allInSync('three brokers in sync');
    for (const h of NAMES) {
      const health = await waitFor(`${h}'s advertised URL check`, async () => {
        const a = await agents[h].http(`${urlOf(h)}/health`);
        return a.body?.advertised_url?.check !== 'pending' ? a.body : null;
      }, 10_000, 100);
      assert.equal(health.advertised_url.check, 'ok', JSON.stringify(health));
      assert.equal(health.status, 'ok', JSON.stringify(health));
    }
    await agents.client.call('produce-start', { brokers: NAMES.map(urlOf), topic: 'mh' });
    await waitFor('first acknowledged writes', async () => (await peek(0)).length > 20, 10_000, 100);
    figures.push(`formation: leader ${l.id} at epoch ${l.epoch}`);
  });

  test('the leader unplugged: another host takes over, the old leader steps down and rejoins', async () => {
    const old = (await leader())!;
    const t0 = Date.now();
    net.cut(old.id);
    const next = await waitFor('a new leader', () => leader([old.id]), 15_000, 100);
    assert.ok(next.epoch > old.epoch);
    const failoverMs = await outage(t0, Date.now(), 'the cut');
    const alone = await waitFor('the cut leader steps down', async () => {
      const a = await agents[old.id].http(`${urlOf(old.id)}/health`);
      return a.body?.role === 'follower' ? a.body : null;
    }, 10_000, 100);
    assert.equal(alone.status, 'degraded');
    net.heal(old.id);
    await allInSync('the old leader back in sync');
    figures.push(`leader ${old.id} unplugged (lease 2 s): new leader ${next.id}, longest stretch without an acknowledged write ${failoverMs} ms`);
  });

  test('the leader cut from Redis only: a new leader; the old one answers 421 naming the others, and a client seeded with it alone finds the leader', async () => {
    const old = (await leader())!;
    const t0 = Date.now();
    net.cutBetween(old.id, HOSTS[old.id], 'redis', REDIS_IP);
    const next = await waitFor('a new leader', () => leader([old.id]), 15_000, 100);
    const failoverMs = await outage(t0, Date.now(), 'the cut from Redis');
    const refused = await waitFor('the old leader refuses writes', async () => {
      const a = await agents.client.http(`${urlOf(old.id)}/produce`, 'POST', { topic: 'probe', payload: 1 });
      return a.status === 421 ? a.body : null;
    }, 10_000, 100);
    assert.equal(refused.leader, null);
    assert.equal(refused.redis, false);
    assert.ok(refused.retry_after_ms > 0, JSON.stringify(refused));
    assert.deepEqual(refused.brokers.map((b: { id: string }) => b.id).sort(), NAMES.filter((h) => h !== old.id).sort(), JSON.stringify(refused));
    const alone = await agents.client.call('client-produce', { brokers: [urlOf(old.id)], topic: 'probe', payload: 'seeded with the cut broker only' });
    assert.equal(alone.leader, urlOf(next.id));
    net.healBetween(old.id, HOSTS[old.id], 'redis', REDIS_IP);
    await allInSync('the old leader back in sync');
    figures.push(`leader ${old.id} cut from Redis only: new leader ${next.id}, longest stretch without an acknowledged write ${failoverMs} ms; a client seeded with ${old.id} alone was sent on to ${next.id}`);
  });

  test('a follower unplugged: the leader names the URL it cannot reach, the follower says so in /health, writes go on', async () => {
    const l = (await leader())!;
    const f = NAMES.find((h) => h !== l.id)!;
    const t0 = Date.now();
    net.cut(f);
    await waitFor('the leader names the follower it cannot reach', () => log(l.id, t0).some((x) => x.includes('WARN') && x.includes(`cannot reach follower ${f} at ${urlOf(f)}`)), 15_000, 100).catch((err: Error) => {
      throw new Error(`${err.message}\n${log(l.id, t0).slice(-20).join('\n')}`);
    });
    const health = await waitFor(`${f} degraded`, async () => {
      const a = await agents[f].http(`${urlOf(f)}/health`);
      return (a.body?.degraded_reasons ?? []).some((r: string) => r.includes(`no replication from leader ${l.id}`)) ? a.body : null;
    }, 15_000, 100);
    assert.equal(health.status, 'degraded');
    const gap = await outage(t0, Date.now(), 'the follower cut');
    net.heal(f);
    await allInSync('the follower back in sync');
    assert.equal((await leader())!.epoch, l.epoch, 'a follower cut changes no leadership');
    figures.push(`follower ${f} unplugged: longest stretch without an acknowledged write ${gap} ms (the replica lag is 2 s)`);
  });

  test('a 100 ms round trip to Redis (chaos delay proxies, lease 2 s): no change of leader; then a SIGKILL fails over', async () => {
    for (const h of NAMES) await agents[h].call('delay', { ms: 50 });
    const l = (await leader())!;
    const t0 = Date.now();
    await sleep(6000);
    const still = (await leader())!;
    assert.deepEqual(still, l, `no change of leader at 100 ms:\n${tails()}`);
    for (const h of NAMES) assert.ok(!log(h, t0).some((x) => x.includes('stepped down')), `${h} did not step down`);
    const tKill = Date.now();
    brokers.get(l.id)!.proc.kill('SIGKILL');
    const next = await waitFor('a new leader', () => leader([l.id]), 15_000, 100);
    const failoverMs = await outage(tKill, Date.now(), 'the SIGKILL');
    const result = await agents.client.call<{ acks: Ack[]; failures: number; lastError: string }>('produce-stop');
    acked = result.acks;
    const stored = await agents.client.call<{ partition: number; offset: number; payload: { seq: number } }[]>('read-all', { url: urlOf(next.id), topic: 'mh' });
    const at = new Map(stored.map((r) => [`${r.partition}/${r.offset}`, r.payload?.seq]));
    const lost = acked.filter((a) => at.get(`${a.partition}/${a.offset}`) !== a.seq);
    figures.push(`100 ms round trip to Redis, lease 2 s / renew 0.5 s: leader ${l.id} kept epoch ${l.epoch} for 6 s; SIGKILL → longest stretch without an acknowledged write ${failoverMs} ms (new leader ${next.id})`);
    figures.push(`lease 2 s run: ${acked.length} records acknowledged through every fault above, ${lost.length} lost, ${result.failures} produce calls failed after retries`);
    assert.equal(lost.length, 0, `lost: ${JSON.stringify(lost.slice(0, 5))}`);
    for (const h of NAMES) brokers.get(h)!.proc.kill('SIGKILL');
  });

  test('a 300 ms round trip to Redis with the default lease (10 s / 5 s): no leader flapping, nothing lost; a SIGKILL fails over within a lease', async () => {
    for (const h of NAMES) await agents[h].call('delay', { ms: 150 });
    for (const h of NAMES) startBroker(h, 'mh300', []);
    const l = await allInSync('three brokers in sync at 300 ms', 40_000);
    const t0 = Date.now();
    await agents.client.call('produce-start', { brokers: NAMES.map(urlOf), topic: 'slow' });
    await sleep(12_000);
    const still = (await leader())!;
    assert.deepEqual(still, l, `no change of leader at 300 ms:\n${tails()}`);
    for (const h of NAMES) {
      assert.ok(!log(h, t0).some((x) => x.includes('stepped down')), `${h} did not step down`);
      assert.ok(!log(h).some((x) => x.includes('too slow for a')), `${h}: a 300 ms round trip fits the default lease`);
    }
    const tKill = Date.now();
    brokers.get(l.id)!.proc.kill('SIGKILL');
    const next = await waitFor('a new leader', () => leader([l.id]), 30_000, 200);
    const failoverMs = await outage(tKill, Date.now(), 'the SIGKILL', 30_000);
    const result = await agents.client.call<{ acks: Ack[]; failures: number }>('produce-stop');
    const stored = await agents.client.call<{ partition: number; offset: number; payload: { seq: number } }[]>('read-all', { url: urlOf(next.id), topic: 'slow' });
    const at = new Map(stored.map((r) => [`${r.partition}/${r.offset}`, r.payload?.seq]));
    const lost = result.acks.filter((a) => at.get(`${a.partition}/${a.offset}`) !== a.seq);
    figures.push(`300 ms round trip to Redis, default lease 10 s / renew 5 s: leader ${l.id} kept epoch ${l.epoch} for 12 s under load; SIGKILL → longest stretch without an acknowledged write ${failoverMs} ms (new leader ${next.id})`);
    figures.push(`default-lease run: ${result.acks.length} records acknowledged, ${lost.length} lost, ${result.failures} produce calls failed after retries`);
    assert.equal(lost.length, 0, `lost: ${JSON.stringify(lost.slice(0, 5))}`);
  });
});
