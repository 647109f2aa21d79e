import { GroupConsumer, YakClient, YakClientError } from '../../../../broker-runtime/src/client/index.js';
import type { GroupAnswer } from '../../../../broker-runtime/src/client/index.js';
import type { AppGroupMember, GroupBrokerView, GroupDescription, GroupMemberAction, GroupMembersRequest } from '../../../shared/cluster-api.js';
import { invalidState, unknownMember } from '../../api/errors.js';
import { FreezableClient } from './freezable-client.js';

/** At most this many members alive at once across every group (each one long-polls the brokers). */
export const MAX_APP_MEMBERS = 12;
/** Stopped members are kept for display, up to this many. */
const KEEP_STOPPED = 24;
export const GROUP_MEMBER_DEFAULTS = { sessionTimeoutMs: 6000, processDelayMs: 10 } as const;

export interface GroupMembersDeps {
  /** The brokers' URLs now (each member gets its own client, as separate programs would). */
  brokerUrls(): string[];
  token(): string | null;
  running(): boolean;
  /** A line for the activity log. */
  info(message: string): void;
  /** Records processed by the app's members count as consumed on the Dashboard. */
  onConsumed(records: number): void;
}

interface Running {
  view: AppGroupMember;
  consumer: GroupConsumer;
  client: FreezableClient;
  done: Promise<void>;
}

/**
 * The consumer-group members the app runs for the Consumer pane and the lessons: real
 * GroupConsumers (broker-runtime's client) in the main process, each over its own client, so they
 * behave as separate programs would. A frozen member's client holds every call it makes
 * (heartbeats, fetches, commits) until it is resumed — as a process under SIGSTOP — so its session
 * expires on the coordinator and its partitions move.
 */
export class GroupMembers {
  private readonly members = new Map<string, Running>();
  private readonly stopped: AppGroupMember[] = [];
  private next = 1;
  private describer: { key: string; client: YakClient } | null = null;

  constructor(private readonly deps: GroupMembersDeps) {}

  start(request: GroupMembersRequest): string[] {
    if (!this.deps.running()) throw invalidState('the cluster is not running: start it first');
    const alive = [...this.members.values()].filter((m) => m.view.state !== 'stopped' && m.view.state !== 'failed').length;
    if (alive + request.count > MAX_APP_MEMBERS) {
      throw invalidState(`the app runs ${alive} member(s); ${request.count} more would pass its limit of ${MAX_APP_MEMBERS}`);
    }
    const names: string[] = [];
    for (let i = 0; i < request.count; i++) names.push(this.startOne(request));
    this.deps.info(`group ${request.group}: ${names.join(', ')} started on ${request.topic} (${request.strategy ?? 'range'}, session ${request.sessionTimeoutMs ?? GROUP_MEMBER_DEFAULTS.sessionTimeoutMs} ms)`);
    return names;
  }

  private startOne(request: GroupMembersRequest): string {
    const name = `member-${this.next++}`;
    const client = new FreezableClient(new YakClient({ brokers: this.deps.brokerUrls(), ...(this.token() ? { token: this.token()! } : {}) }));
    const view: AppGroupMember = {
      name,
      group: request.group,
      topic: request.topic,
      memberId: null,
      generation: -1,
      state: 'joining',
      processed: 0,
      processedByPartition: {},
      startedAt: Date.now(),
      error: null,
    };
    const delay = request.processDelayMs ?? GROUP_MEMBER_DEFAULTS.processDelayMs;
    const consumer = new GroupConsumer(client.asYakClient(), {
      group: request.group,
      topics: [request.topic],
      clientId: name,
      ...(request.strategy ? { strategy: request.strategy } : {}),
      sessionTimeoutMs: request.sessionTimeoutMs ?? GROUP_MEMBER_DEFAULTS.sessionTimeoutMs,
      autoCommitIntervalMs: 500,
      ...(request.startFrom ? { startFrom: request.startFrom } : {}),
      maxRecords: 100,
      onAssign: (_partitions, generation) => {
        view.generation = generation;
        view.memberId = consumer.member.memberId;
        if (view.state === 'joining') view.state = 'running';
      },
    });
    const done = consumer
      .run({
        eachRecord: async (record) => {
          await client.held();
          if (delay > 0) await new Promise((r) => setTimeout(r, delay));
          view.processed++;
          view.processedByPartition[record.partition] = (view.processedByPartition[record.partition] ?? 0) + 1;
          this.deps.onConsumed(1);
        },
      })
      .then(
        () => {
          view.state = 'stopped';
        },
        (err: unknown) => {
          view.state = 'failed';
          view.error = err instanceof Error ? err.message : String(err);
          this.deps.info(`group ${request.group}: ${name} failed: ${view.error}`);
        },
      )
      .finally(() => this.retire(name));
    this.members.set(name, { view, consumer, client, done });
    return name;
  }

  async action(name: string, action: GroupMemberAction): Promise<void> {
    const m = this.members.get(name);
    if (!m) throw unknownMember(name);
    switch (action) {
      case 'freeze':
        if (m.view.state === 'frozen') throw invalidState(`${name} is frozen already`);
        m.client.freeze();
        m.view.state = 'frozen';
        this.deps.info(`group ${m.view.group}: ${name} frozen (no heartbeats, no processing: its session will expire)`);
        return;
      case 'resume':
        if (m.view.state !== 'frozen') throw invalidState(`${name} is not frozen`);
        m.view.state = 'running';
        m.client.thaw();
        this.deps.info(`group ${m.view.group}: ${name} resumed`);
        return;
      case 'stop':
        await this.stop(m);
        this.deps.info(`group ${m.view.group}: ${name} stopped (committed what it processed and left)`);
        return;
    }
  }

  async stopGroup(group: string): Promise<number> {
    const mine = [...this.members.values()].filter((m) => m.view.group === group);
    await Promise.all(mine.map((m) => this.stop(m)));
    if (mine.length) this.deps.info(`group ${group}: ${mine.length} member(s) stopped`);
    return mine.length;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.members.values()].map((m) => this.stop(m)));
  }

  async describe(group: string): Promise<GroupDescription> {
    if (!this.deps.running()) throw invalidState('the cluster is not running: start it first');
    let broker: GroupBrokerView | null = null;
    try {
      broker = toView(await this.describeClient().describeGroup(group));
    } catch (err) {
      if (!(err instanceof YakClientError && err.code === 'UNKNOWN_GROUP')) throw err;
    }
    const members = [...this.stopped, ...[...this.members.values()].map((m) => m.view)]
      .filter((m) => m.group === group)
      .sort((a, b) => a.startedAt - b.startedAt || a.name.localeCompare(b.name, 'en', { numeric: true }))
      .map((m) => ({ ...m, processedByPartition: { ...m.processedByPartition } }));
    return { group, at: Date.now(), broker, members };
  }

  /** close() waits for the record under way; a frozen member is thawed first, its held calls then see it closing. */
  private async stop(m: Running): Promise<void> {
    const closing = m.consumer.close();
    m.client.thaw();
    await closing;
    await m.done;
  }

  private retire(name: string): void {
    const m = this.members.get(name);
    if (!m) return;
    this.members.delete(name);
    this.stopped.push(m.view);
    if (this.stopped.length > KEEP_STOPPED) this.stopped.splice(0, this.stopped.length - KEEP_STOPPED);
  }

  private token(): string | null {
    return this.deps.token();
  }

  private describeClient(): YakClient {
    const urls = this.deps.brokerUrls();
    const key = `${urls.join(' ')} ${this.token() ?? ''}`;
    if (!this.describer || this.describer.key !== key) {
      this.describer = { key, client: new YakClient({ brokers: urls, ...(this.token() ? { token: this.token()! } : {}) }) };
    }
    return this.describer.client;
  }
}

function toView(g: GroupAnswer): GroupBrokerView {
  return {
    state: g.state,
    protocol: g.protocol,
    generation: g.generation,
    leader: g.leader,
    members: g.members.map((m) => ({ memberId: m.member_id, clientId: m.client_id, sessionTimeoutMs: m.session_timeout_ms, partitions: m.partitions.map((p) => ({ topic: p.topic, partition: p.partition })) })),
    offsets: g.offsets.map((o) => ({ topic: o.topic, partition: o.partition, committedOffset: o.committed_offset, highWatermark: o.high_watermark, lag: o.lag, memberId: o.member_id })),
    lag: g.lag,
  };
}
