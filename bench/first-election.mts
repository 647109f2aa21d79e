// How long an election takes when Redis has no in-sync set (README: "When Redis loses its data"):
// a brand-new cluster's first election, and the election after Redis restarted empty under a
// running cluster. Real redis-server and yak-broker processes on free loopback ports.
//
//   npm run build:broker && npx tsx bench/first-election.mts [--rounds 3] [--brokers 3] [--lease 10] [--renew 5] [--bin path/to/yak-broker.js]
//
// Each round: spawn the brokers at once, time until one reports itself leader (/health), wait a
// second, SIGKILL Redis and start it again empty, time until a leader with a newer epoch is elected. Prints one line per
// round and the medians. `--bin` runs another build (e.g. the one before a change) for a comparison.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { BrokerProcess } from '../testkit/broker/process.js';
import { get } from '../testkit/http.js';
import { freePort } from '../testkit/ports.js';
import { RedisServer } from '../testkit/redis/server.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    brokers: { type: 'string', default: '3' },
    lease: { type: 'string', default: '10' },
    renew: { type: 'string', default: '5' },
    bin: { type: 'string' },
  },
});

/**
 * Polls every broker's /health until exactly one leads with an epoch above `aboveEpoch`: the moment
 * it did (ms, performance.now) and its epoch.
 */
async function leaderAt(brokers: BrokerProcess[], aboveEpoch: number, giveUpMs = 120_000): Promise<{ at: number; epoch: number }> {
  const until = performance.now() + giveUpMs;
  while (performance.now() < until) {
    const healths = await Promise.all(brokers.map((b) => get(b.url, '/health', 500).then((h) => h.body as { role?: string; epoch?: number }, () => null)));
    const leaders = healths.filter((h) => h?.role === 'leader' && (h.epoch ?? 0) > aboveEpoch);
    if (leaders.length === 1) return { at: performance.now(), epoch: leaders[0]!.epoch! };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no leader within ${giveUpMs} ms`);
}

/** From the winner's own log: its `listening on` line to its first `elected leader` line (ms), which leaves process start-up out. */
function electionWaitInLog(brokers: BrokerProcess[]): number | null {
  const at = (line: string | undefined) => (line ? Date.parse(line.slice(0, 24)) : NaN);
  for (const b of brokers) {
    const elected = at(b.output.find((l) => l.includes('elected leader with epoch')));
    const listening = at(b.output.find((l) => l.includes('listening on')));
    if (Number.isFinite(elected) && Number.isFinite(listening)) return elected - listening;
  }
  return null;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const first: number[] = [];
const firstInLog: number[] = [];
const afterLoss: number[] = [];
for (let round = 1; round <= Number(values.rounds); round++) {
  const dir = await mkdtemp(join(tmpdir(), 'yak-first-election-'));
  const redis = await RedisServer.start();
  const brokers: BrokerProcess[] = [];
  for (let i = 1; i <= Number(values.brokers); i++) {
    brokers.push(new BrokerProcess({
      id: `b${i}`, port: await freePort(), dataDir: join(dir, `b${i}`), redisUrl: redis.url, cluster: 'bench',
      leaseSeconds: Number(values.lease), renewSeconds: Number(values.renew), ...(values.bin ? { bin: values.bin } : {}),
    }));
  }
  try {
    const spawned = performance.now();
    for (const b of brokers) b.start();
    const elected = await leaderAt(brokers, 0);
    first.push(elected.at - spawned);
    await new Promise((r) => setTimeout(r, 1000)); // the log lines arrive through pipes: let them
    firstInLog.push(electionWaitInLog(brokers) ?? NaN);
    await redis.kill();
    const killed = performance.now();
    await redis.launch();
    afterLoss.push((await leaderAt(brokers, elected.epoch)).at - killed);
    console.log(`round ${round}: first election ${Math.round(first.at(-1)!)} ms from spawning, ${firstInLog.at(-1)} ms from listening (the winner's log); after Redis restarted empty ${Math.round(afterLoss.at(-1)!)} ms (from the kill)`);
  } finally {
    await Promise.all(brokers.map((b) => b.kill()));
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
console.log(`median of ${first.length}: first election ${Math.round(median(first))} ms from spawning, ${median(firstInLog)} ms from listening; after Redis restarted empty ${Math.round(median(afterLoss))} ms (lease ${values.lease} s, renew ${values.renew} s)`);
