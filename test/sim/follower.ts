import type { LeaseHolder } from '../../broker-runtime/src/election/lease-store.js';
import { epochAt } from '../../broker-runtime/src/log/leader-epoch-cache.js';
import { decideTruncation } from '../../broker-runtime/src/replication/divergence.js';
import { continuesLog } from '../../broker-runtime/src/replication/log-start.js';
import type { Mutation } from './config.js';
import type { SimLog } from './disk.js';
import type { SimAnswer, SimFrame, SimPartState } from './runtime.js';

export interface SimFollowerOptions {
  logs: SimLog[];
  currentEpoch(): number;
  isLeader(): boolean;
  observeEpoch(epoch: number, holder: LeaseHolder): Promise<void>;
  note(line: string): void;
  /** Changes each time the process starts (a UUID in the real broker). */
  incarnation: string;
  mutation: Mutation | null;
}

/**
 * replication/follower-apply.ts: refuse older epochs, cut the divergent tail when told, append
 * only where the records continue this log, learn the high-water mark. One request at a time.
 */
export class SimFollowerApply {
  private chain: Promise<unknown> = Promise.resolve();
  private appliedMeta = '';

  constructor(private readonly o: SimFollowerOptions) {}

  handle(frame: SimFrame): Promise<SimAnswer> {
    const run = this.chain.then(() => this.apply(frame));
    this.chain = run.catch(() => {});
    return run;
  }

  private async apply(header: SimFrame): Promise<SimAnswer> {
    const known = this.o.currentEpoch();
    if (header.epoch < known || (header.epoch === known && this.o.isLeader())) {
      return { ok: false, error: 'STALE_EPOCH', epoch: known };
    }
    await this.o.observeEpoch(header.epoch, { id: header.leader, url: `sim://${header.leader}`, epoch: header.epoch });
    if (header.topics) this.appliedMeta = header.metaVersion;
    const parts: SimPartState[] = [];
    for (const part of header.parts) {
      const log = this.o.logs[part.partition];
      if (!log) {
        parts.push({ partition: part.partition, status: 'mismatch', logEndOffset: 0, epochs: [] });
        continue;
      }
      // revert-E: cut whenever told (an unknown epoch there always conflicts).
      const request = this.o.mutation === 'revert-E' ? { ...part, truncateEpoch: undefined } : part;
      const cut = decideTruncation({ epochs: log.epochs(), logEnd: log.logEndOffset(), highWatermark: log.highWatermark() }, { ...request, leaderEpoch: header.epoch });
      if (cut.action === 'refuse') {
        this.o.note(`p${log.partition}: refusing leader ${header.leader} (epoch ${header.epoch}): ${cut.reason}`);
        parts.push({ partition: log.partition, status: 'mismatch', logEndOffset: log.logEndOffset(), epochs: log.epochs(), refused: cut.reason });
        continue;
      }
      if (cut.action === 'cut') {
        const below = cut.to < log.highWatermark() ? ` — below our high-water mark ${log.highWatermark()}` : '';
        this.o.note(`p${log.partition}: truncating divergent tail ${cut.to}..${log.logEndOffset()} (leader ${header.leader}, epoch ${header.epoch})${below}`);
        log.truncateTo(cut.to);
      }
      // Retention is not simulated: every log starts at 0.
      const continues = continuesLog({ logStart: 0, logEnd: log.logEndOffset(), epochAt: (o) => epochAt(log.epochs(), o) }, part.prevOffset, part.prevEpoch);
      if (!continues) {
        parts.push({ partition: log.partition, status: 'mismatch', logEndOffset: log.logEndOffset(), epochs: log.epochs() });
        continue;
      }
      if (part.entries.length > 0) {
        try {
          log.appendRaw(part.entries);
        } catch {
          parts.push({ partition: log.partition, status: 'mismatch', logEndOffset: log.logEndOffset(), epochs: log.epochs() });
          continue;
        }
      }
      const hwm = Math.min(part.hwm, log.logEndOffset());
      if (hwm > log.highWatermark()) log.setHighWatermark(hwm);
      parts.push({ partition: log.partition, status: 'ok', logEndOffset: log.logEndOffset() });
    }
    return { ok: true, metaVersion: this.appliedMeta, parts, incarnation: this.o.incarnation };
  }
}
