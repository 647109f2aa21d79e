import { GroupConsumer, YakClient, YakClientError } from '../broker-runtime/src/client/index.js';
import { atMost, sleep } from '../testkit/wait.js';
import type { History } from './history.js';
import { MemberClient } from './member-client.js';
import type { GroupMembers, MemberTarget } from './targets.js';
import { keyOfPayload } from './workload.js';

export const CHAOS_GROUP = 'chaos-group';
/** The members' session timeout: a killed or paused member's partitions move after this long. */
export const MEMBER_SESSION_TIMEOUT_MS = 4000;

/** One member's place in the group: whoever fills it now, and what the nemesis did to it. */
interface MemberSlot {
  name: string;
  consumer: GroupConsumer | null;
  control: MemberClient | null;
  /** Set while the slot's member is dead: the next member waits for it (the heal of kill-member). */
  revive: (() => void) | null;
}

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
export class GroupWorkload implements GroupMembers {
  readonly sessionTimeoutMs = MEMBER_SESSION_TIMEOUT_MS;
  private running = false;
  private readonly slots: MemberSlot[] = [];
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
    for (let i = 1; i <= this.o.members; i++) {
      const slot: MemberSlot = { name: `g${i}`, consumer: null, control: null, revive: null };
      this.slots.push(slot);
      this.loops.push(this.member(slot));
    }
    this.loops.push(this.observe());
  }

  private client(): YakClient {
    return new YakClient({ brokers: this.urls, timeoutMs: this.o.requestTimeoutMs, retry: { retries: 20, minDelayMs: 20, maxDelayMs: 500 } });
  }

  /**
   * A member; should run() stop with an error, a new one takes its place (and the error is logged).
   * A member the nemesis killed is replaced only when the fault heals.
   */
  private async member(slot: MemberSlot): Promise<void> {
    const name = slot.name;
    while (this.running) {
      const control = new MemberClient();
      const consumer: GroupConsumer = new GroupConsumer(control.wrap(this.loggingCommits(this.client(), name)), {
        group: CHAOS_GROUP,
        topics: [this.o.topic],
        clientId: name,
        sessionTimeoutMs: MEMBER_SESSION_TIMEOUT_MS,
        rebalanceTimeoutMs: MEMBER_SESSION_TIMEOUT_MS,
        autoCommitIntervalMs: 300,
        waitMs: 250,
        onAssign: (parts, generation) =>
          this.history.add({ f: 'group-assign', process: name, type: 'info', member: consumer.member.memberId, generation, value: parts.map((p) => p.partition) }),
      });
      this.consumers.add(consumer);
      slot.consumer = consumer;
      slot.control = control;
      try {
        await consumer.run({
          eachBatch: async (batch) => {
            // Paused: the records wait with the process; killed: they are never processed (nor committed).
            await control.held();
            this.history.add({ f: 'group-process', process: name, type: 'ok', generation: consumer.member.generation, p: batch.partition, value: batch.records.map((r): [number, string] => [r.offset, keyOfPayload(r.payload)]) });
            const last = batch.records[batch.records.length - 1]!.offset + 1;
            if (last > (this.processedUpTo.get(batch.partition) ?? 0)) this.processedUpTo.set(batch.partition, last);
          },
        });
      } catch (err) {
        if (!control.killed) {
          this.history.add({ f: 'run', process: 'harness', type: 'info', value: { groupMemberStopped: name, error: (err as Error).message } });
          await sleep(500);
        }
      } finally {
        this.consumers.delete(consumer);
        slot.consumer = null;
        slot.control = null;
      }
      if (slot.revive) await new Promise<void>((resolve) => (slot.revive = resolve));
    }
  }

  /** `client` with its commits logged (group-commit): a resumed zombie's stale-generation commits must be refused. */
  private loggingCommits(client: YakClient, name: string): YakClient {
    const commit = client.commitOffsets.bind(client);
    const history = this.history;
    const logged: YakClient['commitOffsets'] = async (...args) => {
      const [, offsets, member] = args;
      const base = { f: 'group-commit' as const, t0: history.now(), process: name, member: member?.memberId ?? '', generation: member?.generation ?? -1, value: offsets.map((o): [number, number] => [o.partition, o.offset]) };
      try {
        const answer = await commit(...args);
        history.add({ ...base, type: 'ok' });
        return answer;
      } catch (err) {
        const refused = err instanceof YakClientError && err.status >= 400 && err.status < 500;
        history.add({ ...base, type: refused ? 'fail' : 'info', error: err instanceof YakClientError ? err.code : (err as Error).message });
        throw err;
      }
    };
    return new Proxy(client, { get: (target, prop, receiver) => (prop === 'commitOffsets' ? logged : Reflect.get(target, prop, receiver)) });
  }

  /** A running member to hit (none frozen, dead or waiting to be replaced); null when there is none. */
  pick(choose: <T>(xs: readonly T[]) => T): string | null {
    const live = this.slots.filter((s) => s.consumer && s.control && !s.control.frozen && !s.control.killed && !s.revive);
    return live.length ? choose(live).name : null;
  }

  private target(slot: MemberSlot): MemberTarget {
    const c = slot.consumer;
    return { member: slot.name, memberId: c?.member.memberId ?? '', generation: c?.member.generation ?? -1, partitions: (c?.assignment() ?? []).map((p) => p.partition) };
  }

  private slot(name: string): MemberSlot {
    const slot = this.slots.find((s) => s.name === name);
    if (!slot) throw new Error(`no group member ${name}`);
    return slot;
  }

  /** The member dies without leaving: no heartbeat, no commit, no LeaveGroup; its slot stays empty until revive(). */
  kill(name: string): MemberTarget {
    const slot = this.slot(name);
    const target = this.target(slot);
    slot.revive = () => {}; // replaced by the member loop's waiter once run() has returned
    slot.control?.kill();
    // close() only ends the run loop here: every call it would make (commit, leave) fails at once.
    void slot.consumer?.close();
    return target;
  }

  /** A fresh member (new client, new member id) takes the dead one's place. */
  revive(name: string): void {
    const slot = this.slot(name);
    const wake = slot.revive;
    slot.revive = null;
    wake?.();
  }

  /** The member freezes: its calls and its processing wait until thaw(). */
  freeze(name: string): MemberTarget {
    const slot = this.slot(name);
    slot.control?.freeze();
    return this.target(slot);
  }

  thaw(name: string): void {
    this.slot(name).control?.thaw();
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
    // Nothing stays frozen or dead past the run (the nemesis heals first; this covers a run that threw).
    for (const slot of this.slots) {
      slot.control?.thaw();
      this.revive(slot.name);
    }
    await atMost(Promise.all([...this.consumers].map((c) => c.close())), graceMs);
    await atMost(Promise.all(this.loops), graceMs);
  }
}
