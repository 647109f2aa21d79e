import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { jsonChecksum } from '../log/checkpoint-checksum.js';
import { newerIsr } from './decisions.js';
import { isStorableEpoch } from './epoch-range.js';
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
  /** The identity of the cluster this data folder belongs to (broker/cluster-identity.ts); null until one is known. */
  private cluster: string | null = null;
  private writing: Promise<void> = Promise.resolve();
  /** What open() found out of range and dropped (a state file written before epochs were checked). */
  readonly repairs: string[] = [];

  private constructor(private readonly file: string) {}

  static async open(dataDir: string): Promise<BrokerState> {
    await mkdir(dataDir, { recursive: true });
    const state = new BrokerState(join(dataDir, 'broker-state.json'));
    let text: string | undefined;
    try {
      text = await readFile(state.file, 'utf8');
    } catch (err) {
      // Missing: a first start. Anything else (a folder in its place, no permission) would also
      // fail every write of it, silently: the epochs this broker takes would not survive a restart.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new Error(`cannot read ${state.file}: ${(err as Error).message}; move it aside (the broker then starts remembering from nothing, Redis still has its copy) and start again`, { cause: err });
      }
    }
    if (text === undefined) return state;
    try {
      const { crc32, ...doc } = JSON.parse(text) as { highestEpoch?: unknown; isr?: InSyncSet; clusterIdentity?: unknown; crc32?: unknown };
      if (crc32 !== undefined && crc32 !== jsonChecksum(doc)) {
        // A flipped bit that still parses: an in-sync set that is not the one seen (a wrong member,
        // a higher epoch making it look newest) must not decide who may lead after Redis lost its
        // data; a higher epoch is harmless (epochs only grow), a lower one no worse than none.
        if (isStorableEpoch(doc.highestEpoch)) state.highest = doc.highestEpoch;
        state.repairs.push(`${state.file} is damaged (its checksum fails): the remembered in-sync set is forgotten${isStorableEpoch(doc.highestEpoch) ? `, the highest epoch ${doc.highestEpoch} kept` : ''} (Redis and the other brokers still have theirs)`);
        return state;
      }
      if (typeof doc.clusterIdentity === 'string' && doc.clusterIdentity.length > 0) state.cluster = doc.clusterIdentity;
      if (isStorableEpoch(doc.highestEpoch)) state.highest = doc.highestEpoch;
      else if (doc.highestEpoch !== undefined && doc.highestEpoch !== 0) state.repairs.push(`highest epoch ${String(doc.highestEpoch)} is outside the range a log can store; forgotten (the next epoch follows the logs and the other brokers)`);
      if (doc.isr && Array.isArray(doc.isr.members)) {
        if (isStorableEpoch(doc.isr.epoch)) state.isr = doc.isr;
        else state.repairs.push(`remembered in-sync set has epoch ${String(doc.isr.epoch)}, outside the storable range; forgotten`);
      }
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

  clusterIdentity(): string | null {
    return this.cluster;
  }

  /** Remember which cluster this data folder belongs to; resolves once durable. */
  rememberClusterIdentity(id: string): Promise<void> {
    if (this.cluster === id) return this.writing;
    this.cluster = id;
    return this.save();
  }

  /** Record a newly seen epoch; resolves once it is durable (write temp, fsync, rename). */
  observe(epoch: number): Promise<void> {
    if (!isStorableEpoch(epoch)) throw new RangeError(`epoch ${epoch} is outside the range a log can store`);
    if (epoch <= this.highest) return this.writing;
    this.highest = epoch;
    return this.save();
  }

  /** Record an in-sync set if it is newer than the one remembered; resolves once durable. */
  rememberIsr(isr: InSyncSet): Promise<void> {
    if (!isStorableEpoch(isr.epoch)) return this.writing;
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
      const doc = this.cluster === null ? { highestEpoch: this.highest, isr: this.isr } : { highestEpoch: this.highest, isr: this.isr, clusterIdentity: this.cluster };
      // A checksum, as the partition checkpoints have (checkpoint-checksum.ts); a file without one (older) still loads.
      await fh.writeFile(JSON.stringify({ ...doc, crc32: jsonChecksum(doc) }));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file);
  }
}
