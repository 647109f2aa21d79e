import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What a broker must remember across restarts outside its logs: the highest leader epoch it has
 * seen. A new leadership never takes an epoch at or below it, even if Redis restarted empty.
 */
export class BrokerState {
  private highest = 0;
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly file: string) {}

  static async open(dataDir: string): Promise<BrokerState> {
    await mkdir(dataDir, { recursive: true });
    const state = new BrokerState(join(dataDir, 'broker-state.json'));
    try {
      const doc = JSON.parse(await readFile(state.file, 'utf8')) as { highestEpoch?: unknown };
      if (typeof doc.highestEpoch === 'number' && Number.isSafeInteger(doc.highestEpoch)) state.highest = doc.highestEpoch;
    } catch {
      /* first start, or a torn write of a fresh file: start from 0; epochs from Redis still apply */
    }
    return state;
  }

  highestEpoch(): number {
    return this.highest;
  }

  /** Record a newly seen epoch; resolves once it is durable (write temp, fsync, rename). */
  observe(epoch: number): Promise<void> {
    if (epoch <= this.highest) return this.writing;
    this.highest = epoch;
    this.writing = this.writing.then(() => this.persist(epoch)).catch(() => {});
    return this.writing;
  }

  private async persist(epoch: number): Promise<void> {
    if (epoch < this.highest) return; // a later observe() already wrote a higher one
    const tmp = `${this.file}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify({ highestEpoch: this.highest }));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file);
  }
}
