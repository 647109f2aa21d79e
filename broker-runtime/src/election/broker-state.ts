import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { newerIsr } from './decisions.js';
import type { InSyncSet } from './lease-store.js';

/**
 * What a broker must remember across restarts outside its logs:
 * - the highest leader epoch it has seen: a new leadership never takes an epoch at or below it,
 *   even if Redis restarted empty;
 * - the newest in-sync set it has seen: if Redis loses its copy, only members of the newest set
 *   any live broker remembers may recover leadership (they hold every committed record).
 */
export class BrokerState {
  private highest = 0;
  private isr: InSyncSet | null = null;
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly file: string) {}

  static async open(dataDir: string): Promise<BrokerState> {
    await mkdir(dataDir, { recursive: true });
    const state = new BrokerState(join(dataDir, 'broker-state.json'));
    try {
      const doc = JSON.parse(await readFile(state.file, 'utf8')) as { highestEpoch?: unknown; isr?: InSyncSet };
      if (typeof doc.highestEpoch === 'number' && Number.isSafeInteger(doc.highestEpoch)) state.highest = doc.highestEpoch;
      if (doc.isr && typeof doc.isr.epoch === 'number' && Array.isArray(doc.isr.members)) state.isr = doc.isr;
    } catch {
      /* first start, or a torn write of a fresh file: start from nothing; Redis still has its copy */
    }
    return state;
  }

  highestEpoch(): number {
    return this.highest;
  }

  lastIsr(): InSyncSet | null {
    return this.isr;
  }

  /** Record a newly seen epoch; resolves once it is durable (write temp, fsync, rename). */
  observe(epoch: number): Promise<void> {
    if (epoch <= this.highest) return this.writing;
    this.highest = epoch;
    return this.save();
  }

  /** Record an in-sync set if it is newer than the one remembered; resolves once durable. */
  rememberIsr(isr: InSyncSet): Promise<void> {
    if (newerIsr(this.isr, isr) === this.isr && this.isr !== null) return this.writing;
    this.isr = { epoch: isr.epoch, members: [...isr.members].sort(), version: isr.version ?? 0 };
    return this.save();
  }

  private save(): Promise<void> {
    this.writing = this.writing.then(() => this.persist()).catch(() => {});
    return this.writing;
  }

  private async persist(): Promise<void> {
    const tmp = `${this.file}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify({ highestEpoch: this.highest, isr: this.isr }));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file);
  }
}
