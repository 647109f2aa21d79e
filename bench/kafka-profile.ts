// Profiles the Kafka paths of a 3-broker cluster one phase at a time, with real clients:
// `kcat -P` (acks=all) of N 100-byte lines from a file into one partition, then a cold
// `kcat -C -o beginning -e` (nothing of it in the broker's cache of encoded batches), then the same
// read warm. Each broker runs under the CPU profiler (cpu-profile-preload.mjs); a SIGUSR2 between
// phases cuts its profile, so each phase gets files of its own. Prints each phase's wall time and
// each broker's CPU per record; summarise the files with bench/profile-summary.ts.
//
// node --import tsx bench/kafka-profile.ts [--records 300000] [--out /tmp/kafka-prof] [--no-profile] [--kafkajs]
import { spawn } from 'node:child_process';
import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { tempDir } from '../testkit/temp-dir.js';
import { processCpuMs } from './cpu.js';
import { KafkajsProducer } from './kafkajs-producer.js';
import { startCluster } from './environment.js';
import { payloadText } from './payload.js';
import { SecurityMaterial } from './security.js';
import { ensureTopic } from './workloads/context.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
const records = Number(flag('--records', '300000'));
const outDir = resolve(flag('--out', '/tmp/kafka-prof'));
const profiling = !args.includes('--no-profile');
const TOPIC = 'kafka-profile';

if (profiling) {
  await mkdir(outDir, { recursive: true });
  const preload = fileURLToPath(new URL('./cpu-profile-preload.mjs', import.meta.url));
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import ${preload}`.trim();
  process.env.YAK_CPU_PROFILE_DIR = outDir;
}
const settings = { brokers: 3, partitions: 1, leaseSeconds: 2, renewSeconds: 0.5, minInsync: 1, replicaLagSeconds: 2, fsync: 'interval' as const, fsyncIntervalMs: 1000, auth: false, tls: false };
const material = await SecurityMaterial.make(settings);
const cluster = await startCluster(settings, material);
const { dir, cleanup } = await tempDir('yak-kafka-profile-');
try {
  const leader = (await cluster.waitForLeader()).broker;
  await cluster.waitForInSync(3);
  await ensureTopic(leader.url, TOPIC, 1, {});
  const file = join(dir, 'records.txt');
  await writeFile(file, Array.from({ length: records }, (_, i) => payloadText(i)).join('\n') + '\n');
  const base = ['-b', cluster.bootstrap().join(','), '-t', TOPIC, '-p', '0'];
  const phase = async (name: string, kcatArgs: string[]) => {
    const pids = cluster.brokers.map((b) => b.pid!);
    const cpu0 = pids.map(processCpuMs);
    const ms = await kcat(kcatArgs);
    const cpu = pids.map((p, i) => (processCpuMs(p) ?? 0) - (cpu0[i] ?? 0));
    const who = cluster.brokers.map((b, i) => `${b.id}${b === leader ? ' (leader)' : ''} ${((cpu[i]! * 1000) / records).toFixed(2)}`);
    process.stdout.write(`${name}: ${Math.round((records * 1000) / ms)} records/s (${ms.toFixed(0)} ms); CPU µs/record ${who.join(', ')}\n`);
    if (profiling) await cut(name);
  };
  const cut = async (name: string) => {
    for (const b of cluster.brokers) process.kill(b.pid!, 'SIGUSR2');
    await new Promise((r) => setTimeout(r, 1500));
    for (const f of await readdir(outDir)) {
      const m = /^(.*)-(\d+)-cut\d+\.cpuprofile$/.exec(f);
      if (m) await rename(join(outDir, f), join(outDir, `${name}-${m[1]}${m[1] === leader.id ? '-leader' : ''}.cpuprofile`));
    }
  };
  if (profiling) await cut('startup');
  await phase('produce', ['-P', ...base, '-X', 'acks=all', '-X', 'linger.ms=5', '-l', file]);
  await phase('fetch-cold', ['-C', ...base, '-o', 'beginning', '-c', String(records), '-e', '-q', '-f', '%s\n']);
  await phase('fetch-warm', ['-C', ...base, '-o', 'beginning', '-c', String(records), '-e', '-q', '-f', '%s\n']);
  if (args.includes('--kafkajs')) {
    const producer = await KafkajsProducer.connect(cluster.bootstrap(), {}, TOPIC, 1, 1);
    try {
      await producer.round(1000, [], 32, 1); // warm-up, not profiled apart
      if (profiling) await cut('kafkajs-warmup');
      const r = await producer.round(5000, cluster.brokers.map((b) => b.pid), 32, 1);
      process.stdout.write(`kafkajs-single: ${Math.round(r.rate)} records/s; CPU µs/record all brokers ${r.brokerCpuUs?.toFixed(1)}, client ${r.clientCpuUs.toFixed(1)}\n`);
      if (profiling) await cut('kafkajs-single');
    } finally {
      await producer.close();
    }
  }
} finally {
  if (profiling) await Promise.all(cluster.brokers.map((b) => b.stop(10_000)));
  await cluster.stop();
  await material.remove();
  await cleanup();
}

function kcat(a: string[]): Promise<number> {
  return new Promise((res, rej) => {
    const start = performance.now();
    const p = spawn('kcat', a, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', rej);
    p.on('close', (code) => (code === 0 ? res(performance.now() - start) : rej(new Error(`kcat ${a[0]} exited ${code}: ${stderr.slice(0, 500)}`))));
  });
}
