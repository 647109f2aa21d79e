// KafkaJS against YAK and against the null Kafka broker (its ceiling on this machine), side by
// side in alternating rounds, in the bench process or a child process of its own, with and without
// TCP no-delay: what bounds KafkaJS here. Prints each variant's median records/s, KafkaJS's own CPU
// per record and the server side's (YAK: all three brokers; null: the null broker); for variants in
// the bench process, the requests KafkaJS made over all rounds (its instrumentation events); and
// the brokers' CPU while idle, the part of their CPU per record that is per second, not per record.
//
// node --import tsx bench/kafkajs-ceiling.ts [--rounds 5] [--round-ms 3000] [--single]
//   [--variants yak-bench,null-bench,yak-child,null-child,yak-child-nodelay,yak-bench-s16,...]
//   (target-where[-nodelay][-sN]: N sends in flight instead of 4 batched / 32 single)
//   [--client-profile DIR]   (child variants under --cpu-prof; summarise with bench/profile-summary.ts)
//   [--broker-profile DIR]   (the brokers under the CPU profiler, as kafka-profile.ts does)
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { KafkajsChild } from './kafkajs-child.js';
import { KAFKAJS_BATCH_SENDERS, KAFKAJS_SINGLE_SENDERS, KafkajsProducer, type KafkajsRound } from './kafkajs-producer.js';
import { startCluster } from './environment.js';
import { NullKafkaBroker } from './null-kafka-broker.js';
import { alternate, sleep } from './rounds.js';
import { cpuMeter } from './cpu.js';
import { median } from './stats.js';
import { SecurityMaterial } from './security.js';
import { ensureTopic } from './workloads/context.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
const rounds = Number(flag('--rounds', '5'));
const roundMs = Number(flag('--round-ms', '3000'));
const single = args.includes('--single');
const variants = flag('--variants', 'yak-bench,null-bench,yak-child,null-child').split(',');
const clientProfile = args.includes('--client-profile') ? resolve(flag('--client-profile', '')) : undefined;
const brokerProfile = args.includes('--broker-profile') ? resolve(flag('--broker-profile', '')) : undefined;
const TOPIC = 'kafkajs-ceiling';
const PARTITIONS = 3;
const BATCH = 1000;
const senders = single ? KAFKAJS_SINGLE_SENDERS : KAFKAJS_BATCH_SENDERS;
const perSend = single ? 1 : BATCH;

if (clientProfile) await mkdir(clientProfile, { recursive: true });
if (brokerProfile) {
  await mkdir(brokerProfile, { recursive: true });
  const preload = fileURLToPath(new URL('./cpu-profile-preload.mjs', import.meta.url));
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import ${preload}`.trim();
  process.env.YAK_CPU_PROFILE_DIR = brokerProfile;
}
const settings = { brokers: 3, partitions: PARTITIONS, leaseSeconds: 2, renewSeconds: 0.5, minInsync: 1, replicaLagSeconds: 2, fsync: 'interval' as const, fsyncIntervalMs: 1000, auth: false, tls: false };
const material = await SecurityMaterial.make(settings);
const cluster = await startCluster(settings, material);
if (brokerProfile) delete process.env.NODE_OPTIONS;
const nullBroker = await NullKafkaBroker.start(PARTITIONS);
interface Client {
  round(ms: number, pids: (number | undefined)[], senders: number, perSend: number): Promise<KafkajsRound>;
  close(): Promise<void>;
  watch?(): () => string;
}
const clients = new Map<string, Client>();
try {
  const leader = (await cluster.waitForLeader()).broker;
  await cluster.waitForInSync(3);
  await ensureTopic(leader.url, TOPIC, PARTITIONS, {});
  const brokerPids = cluster.brokers.map((b) => b.pid);
  const results = new Map<string, KafkajsRound[]>();
  for (const v of variants) {
    const [target, where, ...options] = v.split('-') as [string, string, ...string[]];
    const bootstrap = target === 'yak' ? cluster.bootstrap() : nullBroker.bootstrap;
    const noDelay = options.includes('nodelay');
    const c = where === 'child' ? await KafkajsChild.connect(bootstrap, {}, TOPIC, PARTITIONS, BATCH, noDelay, clientProfile) : await KafkajsProducer.connect(bootstrap, {}, TOPIC, PARTITIONS, BATCH, noDelay);
    clients.set(v, c);
    results.set(v, []);
  }
  const pidsOf = (v: string) => (v.startsWith('yak') ? brokerPids : [nullBroker.pid]);
  const sendersOf = (v: string) => Number(/-s(\d+)/.exec(v)?.[1] ?? senders);
  for (const v of variants) await clients.get(v)!.round(Math.min(1500, roundMs), pidsOf(v), sendersOf(v), perSend); // warm-up
  const idle = cpuMeter(brokerPids);
  await sleep(3000);
  const idleMs = idle();
  const watches = new Map<string, () => string>();
  for (const v of variants) {
    const stop = clients.get(v)!.watch?.();
    if (stop) watches.set(v, stop);
  }
  const loads: string[] = [];
  await alternate(
    rounds,
    variants.map((v) => async () => {
      loads.push(loadavg()[0]!.toFixed(1));
      results.get(v)!.push(await clients.get(v)!.round(roundMs, pidsOf(v), sendersOf(v), perSend));
    }),
  );
  process.stdout.write(`brokers idle (3 s before the rounds): ${idleMs === null ? '—' : ((idleMs * 1000) / 3000).toFixed(0)} ms of CPU per second, all three\n`);
  process.stdout.write(`KafkaJS ${senders} × send of ${perSend}, acks=all, ${rounds} rounds of ${roundMs} ms; load average (1 min) during the rounds ${loads.join(' ')}\n`);
  for (const v of variants) {
    const rs = results.get(v)!;
    const rate = median(rs.map((r) => r.rate));
    const client = median(rs.map((r) => r.clientCpuUs));
    const server = median(rs.map((r) => r.brokerCpuUs ?? NaN));
    process.stdout.write(
      `${v.padEnd(20)} ${String(Math.round(rate ?? 0)).padStart(8)} records/s [${rs.map((r) => Math.round(r.rate)).join(', ')}]  KafkaJS CPU ${client?.toFixed(2)} µs/record  ${v.startsWith('yak') ? 'brokers' : 'null broker'} ${server?.toFixed(2)} µs/record\n`,
    );
    const watch = watches.get(v);
    if (watch) process.stdout.write(`${' '.repeat(21)}requests over the rounds: ${watch()}\n`);
  }
} finally {
  for (const c of clients.values()) await c.close().catch(() => {});
  await nullBroker.stop();
  if (brokerProfile) await Promise.all(cluster.brokers.map((b) => b.stop(10_000)));
  await cluster.stop();
  await material.remove();
}
