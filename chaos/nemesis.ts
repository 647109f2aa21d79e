import { sleep } from '../testkit/wait.js';
import type { ChaosCluster } from './cluster.js';
import { FAULTS, type FaultName } from './faults.js';
import type { History } from './history.js';
import type { Rng } from '../testkit/rng.js';
import type { GroupMembers } from './targets.js';

export interface NemesisOptions {
  faults: FaultName[];
  /** Stop starting faults at this Date.now(). */
  until: number;
  /** Stop after this many faults (the kill loop). */
  maxFaults?: number;
  leaseMs: number;
  /** How long to wait for the cluster to be whole again after a heal. */
  recoveryTimeoutMs: number;
  /** Pause between a recovery and the next fault, as a multiple of the lease. */
  quiet: [number, number];
  /** The consumer group's members, for the member faults. */
  members?: GroupMembers;
  log(line: string): void;
}

/**
 * Injects faults one after another: start, hold, heal, wait until every broker is back and in
 * sync (or give up and note it), rest, next. The order is a seeded shuffle repeated, so every
 * fault kind comes up before any repeats.
 */
export async function runNemesis(cluster: ChaosCluster, history: History, rng: Rng, o: NemesisOptions): Promise<Map<FaultName, number>> {
  const counts = new Map<FaultName, number>();
  if (o.faults.length === 0) {
    // Every fault asked for was skipped (e.g. disk-full without root): the workload runs unharmed.
    await sleep(Number.isFinite(o.until) ? Math.max(0, o.until - Date.now()) : 0);
    return counts;
  }
  let round: FaultName[] = [];
  for (let n = 0; Date.now() < o.until && (o.maxFaults === undefined || n < o.maxFaults); n++) {
    if (round.length === 0) round = rng.shuffle(o.faults);
    const name = round.shift()!;
    const fault = await FAULTS[name]({ cluster, rng, leaseMs: o.leaseMs, ...(o.members && { members: o.members }) });
    counts.set(name, (counts.get(name) ?? 0) + 1);
    history.add({ f: 'start', process: 'nemesis', type: 'info', fault: name, target: fault.target, value: { holdMs: fault.holdMs, ...fault.detail } });
    o.log(`fault ${n + 1}: ${name} on ${fault.target}${fault.detail ? ` ${JSON.stringify(fault.detail)}` : ''}, held ${fault.holdMs} ms`);
    await sleep(fault.holdMs);
    await fault.heal();
    history.add({ f: 'heal', process: 'nemesis', type: 'info', fault: name, target: fault.target });
    await recover(cluster, history, o, name);
    await sleep(Math.round(o.leaseMs * rng.float(...o.quiet)));
  }
  return counts;
}

/** Wait for the cluster to be whole; a broker that exited by itself is a crash: note it and start it again. */
export async function recover(cluster: ChaosCluster, history: History, o: Pick<NemesisOptions, 'recoveryTimeoutMs' | 'log'>, fault?: string): Promise<boolean> {
  const started = Date.now();
  for (let attempt = 0; attempt < 3; attempt++) {
    for (const b of cluster.crashed()) {
      history.add({ f: 'crash', process: 'nemesis', type: 'info', target: b.id, value: { exitCode: b.proc.exitCode, output: b.proc.tail(15) } });
      o.log(`${b.id} exited by itself (code ${b.proc.exitCode}); restarting it`);
      b.proc.start();
    }
    if (await cluster.waitHealthy(Math.round(o.recoveryTimeoutMs / 3))) {
      history.add({ f: 'recovered', process: 'nemesis', type: 'info', ...(fault ? { fault } : {}), value: { ms: Date.now() - started } });
      return true;
    }
  }
  history.add({ f: 'not-recovered', process: 'nemesis', type: 'info', ...(fault ? { fault } : {}), value: { ms: Date.now() - started, state: cluster.describe(8) } });
  o.log(`the cluster did not recover within ${o.recoveryTimeoutMs} ms${fault ? ` after ${fault}` : ''}`);
  return false;
}
