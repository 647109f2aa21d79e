import type { BenchEnvironment } from '../environment.js';
import { HttpConnection, type ConnectionSecurity } from '../http-conn.js';
import type { BenchOptions } from '../options.js';

/** What every workload gets. */
export interface WorkloadContext {
  env: BenchEnvironment;
  options: BenchOptions;
  /** Progress lines (stderr), so stdout stays the table. */
  log(line: string): void;
}

/** The current leader's URL (waits until there is exactly one). */
export async function leaderUrl(ctx: WorkloadContext): Promise<string> {
  return (await ctx.env.cluster.waitForLeader()).broker.url;
}

export async function openConnections(url: string, n: number, security: ConnectionSecurity): Promise<HttpConnection[]> {
  return Promise.all(Array.from({ length: n }, () => HttpConnection.open(url, security)));
}

export function closeAll(conns: HttpConnection[]): void {
  for (const c of conns) c.close();
}

/** Creates the topic on the leader if it is not there yet, so no round pays for topic creation. */
export async function ensureTopic(url: string, topic: string, partitions: number, security: ConnectionSecurity): Promise<void> {
  const c = await HttpConnection.open(url, security);
  try {
    const r = await c.request('POST', '/topics', JSON.stringify({ name: topic, partitions }));
    if (r.status !== 201 && r.status !== 409) throw new Error(`creating topic ${topic}: HTTP ${r.status} ${r.body.toString().slice(0, 200)}`);
  } finally {
    c.close();
  }
}

/** Throws with the broker's answer unless it is a 200. */
export function expectOk(status: number, body: Buffer, what: string): void {
  if (status !== 200) throw new Error(`${what}: HTTP ${status} ${body.toString('utf8').slice(0, 200)}`);
}
