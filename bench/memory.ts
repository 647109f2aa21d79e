import { readFileSync } from 'node:fs';

/** Resident memory of a process from /proc (Linux), in bytes; null where /proc is not there. */
export function rssBytes(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Samples the RSS of some processes every `everyMs` until stopped; keeps each one's peak. */
export class RssSampler {
  private readonly peaks = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pids: number[],
    everyMs = 50,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  stop(): Map<number, number> {
    clearInterval(this.timer);
    this.sample();
    return this.peaks;
  }

  private sample(): void {
    for (const pid of this.pids) {
      const rss = rssBytes(pid);
      if (rss !== null && rss > (this.peaks.get(pid) ?? 0)) this.peaks.set(pid, rss);
    }
  }
}
