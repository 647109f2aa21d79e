import { randomUUID } from 'node:crypto';
import { invalidRequest } from '../errors/errors.js';
import { assign, isStrategy } from './assignors.js';
import { Group, sameProtocols, type JoinResult, type Member } from './group.js';
import { groupMaxSizeReached, illegalGeneration, inconsistentProtocol, loadInProgress, rebalanceInProgress, tooManyGroups, unknownGroup, unknownMember } from './group-errors.js';
import { describeGroup, summarizeGroup, type GroupSummary, type GroupView } from './group-view.js';
import { OffsetStore } from './offset-store.js';
import { GroupRebuilder, groupRecord } from './offsets-log.js';
import { checkJoin, checkOwner, memberMetadataBytes, settle, DEFAULT_GROUP_LIMITS, MAX_GROUP_METADATA_BYTES, type GroupLimits, type CommitRequest, type CoordinatorHost, type JoinRequest, type OffsetAnswer, type ResetRequest, type SyncRequest } from './requests.js';
import { YAK_PROTOCOL_TYPE, decodeAssignment, decodeSubscription, encodeAssignment } from './rest-protocol.js';

export { DEFAULT_GROUP_LIMITS, MAX_GROUP_MEMBERS, MAX_OFFSET_METADATA_BYTES, MAX_PROTOCOL_METADATA_BYTES, REBALANCE_TIMEOUT_MS, SESSION_TIMEOUT_MS } from './requests.js';
export type { CommitRequest, CoordinatorHost, GroupLimits, JoinRequest, OffsetAnswer, ResetRequest, SyncRequest } from './requests.js';

const TICK_MS = 100;


/**
 * The group coordinator. It runs on the cluster leader only (activate() when elected, deactivate()
 * when not), keeps groups in memory and writes every committed offset and every completed generation
 * to the internal topic before answering, so a new leader rebuilds the same groups from it.
 * Transport-independent: the REST routes and the Kafka listener call the same methods; refusals are
 * YakErrors named as Kafka names them, and a refusal changes nothing.
 */
export class GroupCoordinator {
  private groups = new Map<string, Group>();
  private phase: 'inactive' | 'loading' | 'active' = 'inactive';
  private activation = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly offsets: OffsetStore;

  constructor(
    private readonly host: CoordinatorHost,
    private readonly options: { tickMs?: number; limits?: Partial<GroupLimits> } = {},
  ) {
    this.limits = { ...DEFAULT_GROUP_LIMITS, ...options.limits };
    this.offsets = new OffsetStore(() => this.groups, host, (group) => this.checkRoomFor(group));
  }

  private readonly limits: GroupLimits;

  /**
   * Before anything creates a group (a join, a commit or a reset naming an unknown one): the
   * coordinator holds at most limits.maxGroups, so a client inventing group names cannot fill the
   * leader's memory (groups with committed offsets are kept until reset, as Kafka keeps them until
   * offsets.retention.minutes, which YAK does not have yet). Groups read back at load are kept, however many.
   */
  private checkRoomFor(group: string): void {
    if (!this.groups.has(group) && this.groups.size >= this.limits.maxGroups) throw tooManyGroups(group, this.limits.maxGroups);
  }

  // ---- leadership

  /** This broker leads now: read the internal topic back, then serve. */
  activate(): void {
    const token = ++this.activation;
    this.phase = 'loading';
    this.groups = new Map();
    const tickMs = this.options.tickMs ?? TICK_MS;
    if (tickMs > 0 && !this.timer) {
      this.timer = setInterval(() => this.tick(), tickMs);
      this.timer.unref();
    }
    void this.load(token);
  }

  private async load(token: number): Promise<void> {
    for (let attempt = 1; token === this.activation; attempt++) {
      try {
        const rebuilder = new GroupRebuilder((id) => new Group(id), this.host.now);
        let records = 0;
        for await (const payload of this.host.readOffsetsTopic()) {
          if (token !== this.activation) return;
          rebuilder.apply(payload);
          records++;
        }
        if (token !== this.activation) return;
        this.groups = rebuilder.groups;
        this.phase = 'active';
        this.host.log('info', `group coordinator active: ${this.groups.size} group(s) read back from ${records} record(s)`, 'groups.loaded', { groups: this.groups.size, records });
        return;
      } catch (err) {
        this.host.log('warn', `group coordinator: reading the offsets topic failed (attempt ${attempt}): ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * attempt)).unref());
      }
    }
  }

  /** This broker no longer leads: every waiting request is told to ask the new leader, and the groups are dropped. */
  deactivate(): void {
    this.activation++;
    this.phase = 'inactive';
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const err = this.host.notCoordinator();
    for (const g of this.groups.values()) for (const m of g.members.values()) this.rejectWaiters(m, err);
    this.groups = new Map();
  }

  isActive(): boolean {
    return this.phase === 'active';
  }

  private ensureActive(): void {
    if (this.phase === 'inactive') throw this.host.notCoordinator();
    if (this.phase === 'loading') throw loadInProgress();
  }

  // ---- membership (Kafka's JoinGroup, SyncGroup, Heartbeat, LeaveGroup)

  /** Kafka's JoinGroup: resolves once the join phase completes (a long wait, up to the rebalance timeout). */
  join(req: JoinRequest): Promise<JoinResult> {
    return settle(() => this.joinNow(req));
  }

  private joinNow(req: JoinRequest): Promise<JoinResult> {
    this.ensureActive();
    checkJoin(req);
    let g = this.groups.get(req.group);
    if (req.memberId !== '' && !g?.members.has(req.memberId)) throw unknownMember(req.group, req.memberId);
    if (req.memberId !== '') checkOwner(req.group, g!.members.get(req.memberId)!, req.principal);
    if (g && g.members.size > 0 && g.protocolType !== req.protocolType) {
      throw inconsistentProtocol(req.group, `protocol type '${req.protocolType}' is not the group's '${g.protocolType}'`);
    }
    if (g && !g.supports(req.protocols, req.memberId || undefined)) {
      throw inconsistentProtocol(req.group, `none of the protocols ${req.protocols.map((p) => p.name).join(', ')} is supported by every member`);
    }
    if (req.memberId === '' && g && g.members.size >= this.limits.maxMembers) throw groupMaxSizeReached(req.group, this.limits.maxMembers);
    this.checkRoomFor(req.group);
    if (g) {
      let held = 0;
      for (const m of g.members.values()) if (m.memberId !== req.memberId) held += memberMetadataBytes(m.protocols) + m.assignment.length;
      const adding = memberMetadataBytes(req.protocols);
      if (held + adding > MAX_GROUP_METADATA_BYTES) {
        throw invalidRequest(`group '${req.group}' would hold ${held + adding} bytes of member metadata; at most ${MAX_GROUP_METADATA_BYTES} (a generation is written as one record): subscribe to fewer topics or use fewer members`);
      }
    }
    if (!g) this.groups.set(req.group, (g = new Group(req.group)));
    const now = this.host.now();
    if (req.memberId === '') {
      if (g.members.size === 0) g.protocolType = req.protocolType;
      const member: Member = {
        memberId: `${req.clientId || 'member'}-${randomUUID()}`,
        clientId: req.clientId,
        sessionTimeoutMs: req.sessionTimeoutMs,
        rebalanceTimeoutMs: req.rebalanceTimeoutMs,
        protocols: req.protocols,
        assignment: Buffer.alloc(0),
        deadline: now + req.sessionTimeoutMs,
        joining: null,
        syncing: null,
        ...(req.principal !== undefined ? { owner: req.principal } : {}),
      };
      g.members.set(member.memberId, member);
      this.host.log('info', `group ${g.id}: member ${member.memberId} joins`, 'group.member.joined', { group: g.id, member: member.memberId });
      return this.awaitJoin(g, member, true);
    }
    const member = g.members.get(req.memberId)!;
    member.deadline = now + member.sessionTimeoutMs;
    const unchanged = sameProtocols(member.protocols, req.protocols) && member.sessionTimeoutMs === req.sessionTimeoutMs && member.rebalanceTimeoutMs === req.rebalanceTimeoutMs;
    member.clientId = req.clientId;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    member.protocols = req.protocols;
    const leaderRejoins = g.protocolType !== YAK_PROTOCOL_TYPE && member.memberId === g.leaderId;
    if (g.state === 'PreparingRebalance') return this.awaitJoin(g, member, false);
    // A REST generation being written: answered with it once it is (persistGeneration).
    if (unchanged && g.state === 'CompletingRebalance' && g.protocolType === YAK_PROTOCOL_TYPE) return this.awaitJoin(g, member, false);
    if (unchanged && (g.state === 'CompletingRebalance' || (g.state === 'Stable' && !leaderRejoins))) {
      // A member asking again (a lost answer, a failover): the current generation, no rebalance.
      return Promise.resolve(this.joinResult(g, member));
    }
    return this.awaitJoin(g, member, true);
  }

  private awaitJoin(g: Group, member: Member, rebalance: boolean): Promise<JoinResult> {
    const p = new Promise<JoinResult>((resolve, reject) => {
      member.joining?.reject(rebalanceInProgress(g.id));
      member.joining = { resolve, reject };
    });
    if (rebalance && g.state !== 'PreparingRebalance') this.prepareRebalance(g, `member ${member.memberId} joins`);
    else this.tryCompleteJoin(g);
    return p;
  }

  /** Kafka's SyncGroup: the member's assignment, once the leader has given it (and the generation is written). */
  sync(req: SyncRequest): Promise<Buffer> {
    return settle(() => this.syncNow(req));
  }

  private syncNow(req: SyncRequest): Promise<Buffer> {
    this.ensureActive();
    const { g, member } = this.memberOf(req.group, req.memberId, req.principal);
    if (req.generation !== g.generation) throw illegalGeneration(g.id, req.generation, g.generation);
    if (g.state === 'PreparingRebalance' || g.state === 'Empty') throw rebalanceInProgress(g.id);
    member.deadline = this.host.now() + member.sessionTimeoutMs;
    if (g.state === 'Stable') return Promise.resolve(member.assignment);
    const p = new Promise<Buffer>((resolve, reject) => {
      member.syncing?.reject(rebalanceInProgress(g.id));
      member.syncing = { resolve, reject };
    });
    if (member.memberId === g.leaderId && req.assignments && !g.persisting) {
      const given = new Map(req.assignments.map((a) => [a.memberId, a.assignment]));
      for (const m of g.members.values()) m.assignment = given.get(m.memberId) ?? Buffer.alloc(0);
      this.persistGeneration(g);
    }
    return p;
  }

  heartbeat(group: string, memberId: string, generation: number, principal?: string): void {
    this.ensureActive();
    const { g, member } = this.memberOf(group, memberId, principal);
    if (generation !== g.generation) throw illegalGeneration(g.id, generation, g.generation);
    member.deadline = this.host.now() + member.sessionTimeoutMs;
    if (g.state === 'PreparingRebalance') throw rebalanceInProgress(g.id);
  }

  leave(group: string, memberId: string, principal?: string): void {
    this.ensureActive();
    const { g, member } = this.memberOf(group, memberId, principal);
    this.removeMember(g, member, 'left the group');
  }

  // ---- offsets (Kafka's OffsetCommit, OffsetFetch; and resets)

  async commit(req: CommitRequest): Promise<OffsetAnswer[]> {
    this.ensureActive();
    return this.offsets.commit(req);
  }

  /** Committed offsets of the group (all, or those named); partitions without one are left out. */
  fetchOffsets(group: string, partitions?: { topic: string; partition: number }[]): { topic: string; partition: number; offset: number; metadata: string }[] {
    this.ensureActive();
    return this.offsets.fetchOffsets(group, partitions);
  }

  /** Moves committed offsets anywhere (backwards too), only while the group has no members. */
  async resetOffsets(req: ResetRequest): Promise<OffsetAnswer[]> {
    this.ensureActive();
    return this.offsets.resetOffsets(req);
  }

  // ---- views

  list(): GroupSummary[] {
    this.ensureActive();
    return [...this.groups.values()].map((g) => summarizeGroup(g, (t, p) => this.host.highWatermark(t, p))).sort((a, b) => (a.group < b.group ? -1 : 1));
  }

  describe(group: string): GroupView {
    this.ensureActive();
    const g = this.groups.get(group);
    if (!g) throw unknownGroup(group);
    return describeGroup(g, (t, p) => this.host.highWatermark(t, p));
  }

  /**
   * Kafka's DescribeGroups needs the members' raw protocol metadata and assignment (GroupView
   * decodes them): null for a group this coordinator does not know (Kafka answers state "Dead").
   */
  describeRaw(group: string): { state: string; protocolType: string; protocol: string; generation: number; members: { memberId: string; clientId: string; metadata: Buffer; assignment: Buffer }[] } | null {
    this.ensureActive();
    const g = this.groups.get(group);
    if (!g) return null;
    return {
      state: g.state,
      protocolType: g.protocolType,
      protocol: g.protocol,
      generation: g.generation,
      members: [...g.members.values()].map((m) => ({ memberId: m.memberId, clientId: m.clientId, metadata: g.metadataOf(m, g.protocol), assignment: m.assignment })),
    };
  }

  // ---- time

  /** Session expiry and rebalance deadlines; the interval timer calls it, unit tests call it with their clock. */
  tick(): void {
    if (this.phase !== 'active') return;
    const now = this.host.now();
    for (const g of [...this.groups.values()]) {
      for (const m of [...g.members.values()]) {
        if (!m.joining && m.deadline < now) this.removeMember(g, m, `session expired (${m.sessionTimeoutMs} ms without a heartbeat)`);
      }
      if (g.state === 'PreparingRebalance' && now >= g.rebalanceDeadline) this.tryCompleteJoin(g);
      if (g.state === 'CompletingRebalance' && !g.persisting && now >= g.rebalanceDeadline) this.prepareRebalance(g, 'the leader sent no assignment in time');
      // Only a group that never formed a generation goes: a group that did keeps its number, so a
      // generation is never given out twice under one name (a member of the old generation 1 could
      // otherwise commit into a new generation 1).
      if (g.state === 'Empty' && g.members.size === 0 && g.offsets.size === 0 && g.generation === 0) this.groups.delete(g.id);
    }
  }

  // ---- the rebalance itself

  private prepareRebalance(g: Group, why: string): void {
    if (g.state === 'CompletingRebalance') {
      for (const m of g.members.values()) {
        m.syncing?.reject(rebalanceInProgress(g.id));
        m.syncing = null;
      }
    }
    g.state = 'PreparingRebalance';
    g.rebalanceDeadline = this.host.now() + g.maxRebalanceTimeoutMs();
    this.host.log('info', `group ${g.id}: rebalancing (${why})`, 'group.rebalance', { group: g.id, generation: g.generation, reason: why });
    this.tryCompleteJoin(g);
  }

  private tryCompleteJoin(g: Group): void {
    if (g.state !== 'PreparingRebalance') return;
    if (!g.allJoined() && this.host.now() < g.rebalanceDeadline) return;
    for (const m of [...g.members.values()]) if (!m.joining) this.dropMember(g, m, 'did not join again before the rebalance timeout');
    this.completeJoin(g);
  }

  private completeJoin(g: Group): void {
    const now = this.host.now();
    g.generation++;
    if (g.members.size === 0) {
      g.state = 'Empty';
      g.protocol = '';
      g.leaderId = '';
      this.persistQuietly(g);
      return;
    }
    const protocol = g.chooseProtocol();
    if (protocol === null) {
      for (const m of [...g.members.values()]) {
        m.joining?.reject(inconsistentProtocol(g.id, 'the members share no protocol'));
        g.members.delete(m.memberId);
      }
      g.state = 'Empty';
      return;
    }
    g.protocol = protocol;
    if (!g.members.has(g.leaderId)) g.leaderId = g.members.keys().next().value!;
    g.state = 'CompletingRebalance';
    g.rebalanceDeadline = now + g.maxRebalanceTimeoutMs();
    const owned = new Map([...g.members.values()].map((m) => [m.memberId, m.assignment]));
    for (const m of g.members.values()) {
      m.assignment = Buffer.alloc(0);
      m.deadline = now + m.sessionTimeoutMs;
    }
    this.host.log('info', `group ${g.id}: generation ${g.generation} with ${g.members.size} member(s)`, 'group.generation', { group: g.id, generation: g.generation, members: g.members.size });
    if (g.protocolType === YAK_PROTOCOL_TYPE) {
      this.assignServerSide(g, owned);
      return;
    }
    for (const m of g.members.values()) {
      const w = m.joining!;
      m.joining = null;
      w.resolve(this.joinResult(g, m));
    }
  }

  /** REST groups: the coordinator assigns, writes the generation, and only then answers the joins. */
  private assignServerSide(g: Group, owned: Map<string, Buffer>): void {
    const strategy = isStrategy(g.protocol) ? g.protocol : 'range';
    const result = assign(
      strategy,
      [...g.members.values()].map((m) => ({ memberId: m.memberId, topics: decodeSubscription(g.metadataOf(m, g.protocol)), owned: decodeAssignment(owned.get(m.memberId) ?? Buffer.alloc(0)) })),
      (t) => this.host.partitionCount(t),
    );
    for (const m of g.members.values()) m.assignment = encodeAssignment(result.get(m.memberId) ?? []);
    this.persistGeneration(g);
  }

  /**
   * Write the generation (members and assignments) to the internal topic; then Stable, and every
   * join or sync waiting by then is answered — never before the write, so no member learns of a
   * generation a new leader would not know. A join that arrives meanwhile waits for the write too.
   */
  private persistGeneration(g: Group): void {
    const generation = g.generation;
    const current = () => g.generation === generation && g.state === 'CompletingRebalance';
    g.persisting = true;
    this.host.append([groupRecord(g)]).then(
      () => {
        g.persisting = false;
        // Otherwise a new rebalance began meanwhile: the waiting joins belong to its join phase now.
        if (!current()) return;
        g.state = 'Stable';
        for (const m of g.members.values()) {
          const j = m.joining;
          const s = m.syncing;
          m.joining = null;
          m.syncing = null;
          j?.resolve(this.joinResult(g, m));
          s?.resolve(m.assignment);
        }
      },
      (err: Error) => {
        g.persisting = false;
        if (!current()) return;
        for (const m of g.members.values()) this.rejectWaiters(m, err);
        if (this.phase === 'active') this.prepareRebalance(g, `the generation could not be written: ${err.message}`);
      },
    );
  }

  private persistQuietly(g: Group): void {
    this.host.append([groupRecord(g)]).catch((err: Error) => this.host.log('debug', `group ${g.id}: could not record generation ${g.generation}: ${err.message}`));
  }

  private joinResult(g: Group, m: Member): JoinResult {
    const isLeader = m.memberId === g.leaderId && g.protocolType !== YAK_PROTOCOL_TYPE;
    return {
      memberId: m.memberId,
      generation: g.generation,
      protocolType: g.protocolType,
      protocol: g.protocol,
      leaderId: g.leaderId,
      members: isLeader ? [...g.members.values()].map((x) => ({ memberId: x.memberId, clientId: x.clientId, metadata: g.metadataOf(x, g.protocol) })) : [],
      ...(g.protocolType === YAK_PROTOCOL_TYPE ? { assignment: m.assignment } : {}),
    };
  }

  private removeMember(g: Group, m: Member, why: string): void {
    this.dropMember(g, m, why);
    if (g.state === 'Stable' || g.state === 'CompletingRebalance') this.prepareRebalance(g, `member ${m.memberId} ${why}`);
    else if (g.state === 'PreparingRebalance') this.tryCompleteJoin(g);
  }

  private dropMember(g: Group, m: Member, why: string): void {
    this.rejectWaiters(m, unknownMember(g.id, m.memberId));
    g.members.delete(m.memberId);
    this.host.log('info', `group ${g.id}: member ${m.memberId} ${why}`, 'group.member.removed', { group: g.id, member: m.memberId, reason: why });
  }

  private rejectWaiters(m: Member, err: Error): void {
    m.joining?.reject(err);
    m.syncing?.reject(err);
    m.joining = null;
    m.syncing = null;
  }

  private memberOf(group: string, memberId: string, principal: string | undefined): { g: Group; member: Member } {
    const g = this.groups.get(group);
    const member = g?.members.get(memberId);
    if (!g || !member) throw unknownMember(group, memberId);
    checkOwner(group, member, principal);
    return { g, member };
  }

}

