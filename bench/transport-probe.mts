// Single produce, A/B, where the CPU goes: several 3-broker clusters (each another build and/or
// flags), 32 clients one record per request, rounds interleaved (the starting cluster rotating).
// Per round and cluster: records/s, broker CPU per record split into the leader and the two
// followers (/proc), and replication frames per record (the leader's replication_frames_sent_total).
//
//   npx tsx bench/transport-probe.mts [--rounds 7] [--ms 3000] [--clients 32] \
//     --side 'new=' --side 'old=/tmp/old/broker-runtime/bin/yak-broker.js' --side 'post=|--replication-stream off'
//
// A side is LABEL=BIN|FLAGS (BIN empty: this tree's build; FLAGS space-separated). Medians per side
// at the end, and each side's median of per-round ratios to the first side.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { cpuMeter } from './cpu.js';
import { brokerSettings, startCluster } from './environment.js';
import { HttpConnection } from './http-conn.js';
import { produceBody } from './payload.js';
import { alternate, runFor } from './rounds.js';
import { SecurityMaterial } from './security.js';
import { median } from './stats.js';
import type { TestCluster } from '../testkit/broker/cluster.js';
import type { BenchOptions } from './options.js';

interface Side {
  label: string;
  cluster: TestCluster;
  leaderPid: number | undefined;
  followerPids: (number | undefined)[];
  leaderUrl: string;
  conns: HttpConnection[];
  rounds: { rate: number; leader: number; followers: number; frames: number; leaderSys: number }[];
}

/** The kernel's share of a process's CPU (stime, ms), to tell syscalls from JavaScript. */
function systemMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[12]) * 1000) / 100;
}

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i === -1 ? dflt : Number(args[i + 1]);
};
const rounds = opt('--rounds', 7);
const ms = opt('--ms', 3000);
const clients = opt('--clients', 32);
const specs = args.flatMap((a, i) => (a === '--side' ? [args[i + 1]!] : []));
if (specs.length === 0) specs.push('this=');
const TOPIC = 'probe-single';

async function framesSent(url: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics?format=prometheus', url))).text();
  let n = 0;
  for (const m of text.matchAll(/^(?:yak_)?replication_frames_sent_total\{[^}]*\} (\d+)/gm)) n += Number(m[1]);
  return n;
}

const settings = brokerSettings({ fsync: 'interval', fsyncIntervalMs: 1000 } as BenchOptions, { auth: false, tls: false });
const material = await SecurityMaterial.make(settings);
const sides: Side[] = [];
try {
  for (const spec of specs) {
    const [label, rest = ''] = spec.split('=', 2) as [string, string?];
    const [bin, flags = ''] = rest.split('|', 2) as [string, string?];
    const cluster = await startCluster(settings, material, flags.split(' ').filter(Boolean), bin || undefined);
    const { broker } = await cluster.waitForLeader();
    const c = await HttpConnection.open(broker.url);
    await c.request('POST', '/topics', JSON.stringify({ name: TOPIC, partitions: settings.partitions }));
    c.close();
    console.log(`${label}: leader pid ${broker.pid}, followers ${cluster.brokers.filter((b) => b !== broker).map((b) => b.pid).join(' ')}`);
    const conns = await Promise.all(Array.from({ length: clients }, () => HttpConnection.open(broker.url)));
    sides.push({
      label,
      cluster,
      leaderPid: broker.pid,
      followerPids: cluster.brokers.filter((b) => b !== broker).map((b) => b.pid),
      leaderUrl: broker.url,
      conns,
      rounds: [],
    });
  }
  const bodies = Array.from({ length: clients }, (_, w) => produceBody(TOPIC, w));
  const round = async (side: Side, record: boolean, roundMs: number) => {
    let n = 0;
    const frames0 = await framesSent(side.leaderUrl);
    const leader = cpuMeter([side.leaderPid]);
    const followers = cpuMeter(side.followerPids);
    const sys0 = systemMs(side.leaderPid);
    const elapsed = await runFor(roundMs, clients, async (w) => {
      const r = await side.conns[w]!.request('POST', '/produce', bodies[w]!);
      if (r.status !== 200) throw new Error(`produce: HTTP ${r.status} ${r.body.toString().slice(0, 200)}`);
      n++;
    });
    const l = leader() ?? NaN;
    const f = followers() ?? NaN;
    const sys = systemMs(side.leaderPid) - sys0;
    const frames = (await framesSent(side.leaderUrl)) - frames0;
    if (record) side.rounds.push({ rate: (n * 1000) / elapsed, leader: (l * 1000) / n, followers: (f * 1000) / n, frames: frames / n, leaderSys: (sys * 1000) / n });
  };
  for (const s of sides) await round(s, false, 1500);
  const t0 = performance.now();
  await alternate(rounds, sides.map((s) => () => round(s, true, ms)));
  const fmt = (v: number, d = 1) => v.toFixed(d).padStart(8);
  console.log(`load ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}; ${rounds} rounds of ${ms} ms, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  console.log('side         records/s  leader µs  follow µs   total µs  frames/rec  leader sys µs');
  for (const s of sides) {
    const m = (k: keyof Side['rounds'][number]) => median(s.rounds.map((r) => r[k]))!;
    console.log(`${s.label.padEnd(12)} ${fmt(m('rate'), 0)}  ${fmt(m('leader'))}   ${fmt(m('followers'))}   ${fmt(median(s.rounds.map((r) => r.leader + r.followers))!)}  ${fmt(m('frames'), 3)}  ${fmt(m('leaderSys'))}`);
  }
  const base = sides[0]!;
  for (const s of sides.slice(1)) {
    const ratio = (k: (r: Side['rounds'][number]) => number) => median(s.rounds.map((r, i) => k(r) / k(base.rounds[i]!)))!;
    console.log(`${s.label} ÷ ${base.label}: records/s ${ratio((r) => r.rate).toFixed(2)}×, CPU per record ${ratio((r) => r.leader + r.followers).toFixed(2)}× (leader ${ratio((r) => r.leader).toFixed(2)}×)`);
  }
  for (const s of sides) console.log(`${s.label} rounds: ${s.rounds.map((r) => `${r.rate.toFixed(0)}/${(r.leader + r.followers).toFixed(0)}µs`).join(' ')}`);
} finally {
  for (const s of sides) {
    for (const c of s.conns) c.close();
    await s.cluster.stop();
  }
  await material.remove();
}
