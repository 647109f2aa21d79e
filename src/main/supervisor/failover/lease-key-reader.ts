import { Redis } from 'ioredis';
import { clusterKeys } from '../../../../broker-runtime/src/election/keys.js';
import { DESKTOP_CLUSTER_ID } from '../processes/specs.js';
import type { LeaseKeyReading } from './lease-expiry.js';
import { parseLeaseHolder } from '../../../../broker-runtime/src/election/lease-store.js';

/** A read that takes longer is of no use for timing the lease (and must not hold up the failover). */
const READ_TIMEOUT_MS = 500;

/**
 * One connection to the cluster's Redis, opened while the leader is being taken down and used for
 * one read of the lease key right after (lease-expiry.ts): connecting first would put the connect's
 * round trips between the take-down and the read. Every failure reads as null: the failover goes
 * on, with an estimate of the lease's end instead.
 */
export class LeaseKeyReader {
  private readonly key = clusterKeys(DESKTOP_CLUSTER_ID).leader;
  private readonly connected: Promise<boolean>;
  private readonly redis: Redis;

  constructor(redisUrl: string) {
    this.redis = new Redis(redisUrl, {
      lazyConnect: true,
      connectTimeout: READ_TIMEOUT_MS,
      commandTimeout: READ_TIMEOUT_MS,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    this.redis.on('error', () => {}); // reported as a null reading
    this.connected = this.redis.connect().then(
      () => true,
      () => false,
    );
  }

  /** GET and PTTL of the lease key in one MULTI, timed by when it was sent and answered; then closes. */
  async readOnce(): Promise<LeaseKeyReading | null> {
    try {
      if (!(await this.connected)) return null;
      const sentAt = Date.now();
      const replies = await this.redis.multi().get(this.key).pttl(this.key).exec();
      const answeredAt = Date.now();
      const [value, pttl] = [replies?.[0], replies?.[1]];
      if (!value || !pttl || value[0] || pttl[0] || typeof pttl[1] !== 'number') return null;
      const holder = typeof value[1] === 'string' ? parseLeaseHolder(value[1]) : null;
      return { holder: holder && { id: holder.id, epoch: holder.epoch }, pttlMs: pttl[1], sentAt, answeredAt };
    } catch {
      return null;
    } finally {
      this.redis.disconnect();
    }
  }

  close(): void {
    this.redis.disconnect();
  }
}
