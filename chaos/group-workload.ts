import { GroupConsumer, YakClient } from '../broker-runtime/src/client/index.js';
import { sleep } from '../test/helpers/ports.js';
import type { History } from './history.js';
import { keyOfPayload } from './workload.js';

export const CHAOS_GROUP = 'chaos-group';

export interface GroupWorkloadOptions {
  topic: string;
  members: number;
  requestTimeoutMs: number;
}

/**
 * Members of one consumer group (the client's GroupConsumer, as an application would use it)
 * reading the topic through every fault, and an observer of the group's committed offsets. What they
 * log lets the checker hold the group to its promises: every acknowledged record processed at least
 * once, no committed offset going backwards, no partition held by two members of one generation.
 */
export class GroupWorkload {
  private running = false;
  private readonly consumers = new Set<GroupConsumer>();
  private readonly loops: Promise<void>[] = [];
  /** One past the highest offset processed, per partition. */
  private readonly processedUpTo = new Map<number, number>();

  constructor(
    private readonly history: History,
    private readonly urls: string[],
    private readonly o: GroupWorkloadOptions,
  ) {}

  start(): void {
    if (this.o.members === 0) return;
    this.running = true;
    for (let i = 1; i <= this.o.members; i++) this.loops.push(this.member(`g${i}`));
    this.loops.push(this.observe());
  }

  private client(): YakClient {
    return new YakClient({ brokers: this.urls, timeoutMs: this.o.requestTimeoutMs, retry: { retries: 20, minDelayMs: 20, maxDelayMs: 500 } });
  }

  /** A member; should run() stop with an error, a new one takes its place (and the error is logged). */
  private async member(name: string): Promise<void> {
    while (this.running) {
      const consumer: GroupConsumer = new GroupConsumer(this.client(), {
        group: CHAOS_GROUP,
        topics: [this.o.topic],
        clientId: name,
        sessionTimeoutMs: 4000,
        rebalanceTimeoutMs: 4000,
        autoCommitIntervalMs: 300,
        waitMs: 250,
        onAssign: (parts, generation) =>
          this.history.add({ f: 'group-assign', process: name, type: 'info', member: consumer.member.memberId, generation, value: parts.map((p) => p.partition) }),
      });
      this.consumers.add(consumer);
      try {
        await consumer.run({
          eachBatch: (batch) => {
            this.history.add({ f: 'group-process', process: name, type: 'ok', generation: consumer.member.generation, p: batch.partition, value: batch.records.map((r): [number, string] => [r.offset, keyOfPayload(r.payload)]) });
            const last = batch.records[batch.records.length - 1]!.offset + 1;
            if (last > (this.processedUpTo.get(batch.partition) ?? 0)) this.processedUpTo.set(batch.partition, last);
          },
        });
      } catch (err) {
        this.history.add({ f: 'run', process: 'harness', type: 'info', value: { groupMemberStopped: name, error: (err as Error).message } });
        await sleep(500);
      } finally {
        this.consumers.delete(consumer);
      }
    }
  }

  private async observe(): Promise<void> {
    const client = this.client();
    while (this.running) {
      try {
        const view = await client.describeGroup(CHAOS_GROUP);
        const value = view.offsets.filter((o) => o.committed_offset !== null).map((o): [number, number] => [o.partition, o.committed_offset!]);
        this.history.add({ f: 'group-offsets', process: 'group-observer', type: 'ok', value });
      } catch {
        // The group does not exist yet, or the cluster is between leaders: look again.
      }
      await sleep(300);
    }
  }

  /** Waits until the group has processed every partition up to `hwm`; false when it did not within the time. */
  async drain(hwm: Map<number, number>, timeoutMs: number): Promise<boolean> {
    if (this.o.members === 0) return true;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if ([...hwm].every(([p, h]) => (this.processedUpTo.get(p) ?? 0) >= h)) return true;
      await sleep(200);
    }
    return false;
  }

  /** Members close gracefully (commit, leave); waits at most `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    this.running = false;
    await Promise.race([Promise.all([...this.consumers].map((c) => c.close())), sleep(graceMs)]);
    await Promise.race([Promise.all(this.loops), sleep(graceMs)]);
  }
}
