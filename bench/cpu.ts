import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/**
 * Server CPU time, the figure least disturbed by a shared machine: a round that got fewer cores
 * runs slower but does not use more CPU per record. YAK's is read from /proc (all threads of the
 * broker processes), Redis's from INFO (getrusage of the server, its fsync thread included).
 */
const TICKS_PER_SECOND = clockTicks();

function clockTicks(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/** User + system CPU milliseconds a process has used (Linux), or null. */
export function processCpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    // Fields after the command name (which may hold spaces) start at the state, field 3; utime is 14, stime 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

export async function redisCpuMs(redis: Redis): Promise<number | null> {
  const info = await redis.info('cpu');
  const sys = /used_cpu_sys:([\d.]+)/.exec(info);
  const user = /used_cpu_user:([\d.]+)/.exec(info);
  return sys && user ? (Number(sys[1]) + Number(user[1])) * 1000 : null;
}

/** CPU used by some processes between start() and the returned stop(), in ms (null if unreadable). */
export function cpuMeter(pids: (number | undefined)[]): () => number | null {
  const before = pids.map(processCpuMs);
  return () => {
    let total = 0;
    for (let i = 0; i < pids.length; i++) {
      const b = before[i];
      const a = processCpuMs(pids[i]);
      if (a === null || b === null || b === undefined) return null;
      total += a - b;
    }
    return total;
  };
}
