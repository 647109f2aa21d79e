import { invalidRequest, unknownPartition, unknownTopic } from '../errors/errors.js';
import type { TopicPartition } from './assignors.js';
import { Group, offsetKey } from './group.js';
import { illegalGeneration, invalidCommitOffset, metadataTooLarge, nonEmptyGroup, rebalanceInProgress, unknownMember } from './group-errors.js';
import { offsetRecord } from './offsets-log.js';
import { checkGroupId, checkOwner, MAX_COMMIT_OFFSETS, MAX_OFFSET_METADATA_BYTES, type CommitRequest, type CoordinatorHost, type OffsetAnswer, type ResetRequest } from './requests.js';

/**
 * Committed offsets: Kafka's OffsetCommit and OffsetFetch, and resets. Each commit is written to
 * the offsets topic before it is applied and answered; a commit never moves an offset backwards,
 * only a reset (of a group without members) does. The coordinator checks that it leads first.
 */
export class OffsetStore {
  constructor(
    /** The coordinator's groups now (the map is replaced when leadership changes). */
    private readonly groups: () => Map<string, Group>,
    private readonly host: CoordinatorHost,
    /** Throws when a group that does not exist yet may not be created (the coordinator's --max-groups). */
    private readonly checkRoomFor: (group: string) => void = () => undefined,
  ) {}

  async commit(req: CommitRequest): Promise<OffsetAnswer[]> {
    checkGroupId(req.group);
    if (req.offsets.length === 0) throw invalidRequest('offsets must not be empty');
    if (req.offsets.length > MAX_COMMIT_OFFSETS) throw invalidRequest(`a commit names ${req.offsets.length} offsets; at most ${MAX_COMMIT_OFFSETS}`);
    for (const asked of req.offsets) {
      this.checkPartition(asked.topic, asked.partition);
      const highWatermark = this.host.highWatermark(asked.topic, asked.partition);
      if (asked.offset > highWatermark) throw invalidCommitOffset(asked.topic, asked.partition, asked.offset, `past the high-water mark ${highWatermark}`);
      const bytes = Buffer.byteLength(asked.metadata ?? '');
      if (bytes > MAX_OFFSET_METADATA_BYTES) throw metadataTooLarge(bytes, MAX_OFFSET_METADATA_BYTES);
    }
    const g = this.groups().get(req.group);
    if (req.generation < 0 && req.memberId === '') {
      if (g && g.members.size > 0) throw unknownMember(req.group, '');
    } else {
      if (!g) throw unknownMember(req.group, req.memberId);
      const member = g.members.get(req.memberId);
      if (!member) throw unknownMember(req.group, req.memberId);
      checkOwner(req.group, member, req.principal);
      if (req.generation !== g.generation) throw illegalGeneration(g.id, req.generation, g.generation);
      if (g.state === 'CompletingRebalance') throw rebalanceInProgress(g.id);
      member.deadline = this.host.now() + member.sessionTimeoutMs;
    }
    this.checkRoomFor(req.group);
    const now = this.host.now();
    // A partition named twice is written once, at its highest offset (a commit never moves one back).
    const highest = new Map<string, CommitRequest['offsets'][number]>();
    for (const asked of req.offsets) {
      const k = offsetKey(asked.topic, asked.partition);
      if ((highest.get(k)?.offset ?? -1) < asked.offset) highest.set(k, asked);
    }
    const fresh = [...highest.values()].filter((asked) => (g?.offsets.get(offsetKey(asked.topic, asked.partition))?.offset ?? -1) < asked.offset);
    const records = fresh.map((asked) => offsetRecord({ group: req.group, topic: asked.topic, partition: asked.partition, offset: asked.offset, metadata: asked.metadata ?? '', commit_timestamp: now }));
    if (records.length > 0) await this.host.append(records);
    // Looked up again after the write: a group created before it could have been dropped as empty meanwhile.
    let live = this.groups().get(req.group);
    if (!live) this.groups().set(req.group, (live = new Group(req.group)));
    for (const asked of fresh) this.setOffset(live, asked.topic, asked.partition, asked.offset, asked.metadata ?? '', now, false);
    return req.offsets.map((asked) => ({ topic: asked.topic, partition: asked.partition, committed_offset: live.offsets.get(offsetKey(asked.topic, asked.partition))?.offset ?? asked.offset }));
  }

  /** Committed offsets of the group (all, or those named); partitions without one are left out. */
  fetchOffsets(group: string, partitions?: { topic: string; partition: number }[]): { topic: string; partition: number; offset: number; metadata: string }[] {
    const g = this.groups().get(group);
    if (!g) return [];
    const all = [...g.offsets.values()];
    const wanted = partitions ? new Set(partitions.map((p) => offsetKey(p.topic, p.partition))) : null;
    return all.filter((c) => !wanted || wanted.has(offsetKey(c.topic, c.partition))).map((c) => ({ topic: c.topic, partition: c.partition, offset: c.offset, metadata: c.metadata }));
  }

  /** Moves committed offsets anywhere (backwards too), only while the group has no members. */
  async resetOffsets(req: ResetRequest): Promise<OffsetAnswer[]> {
    checkGroupId(req.group);
    const g0 = this.groups().get(req.group);
    if (g0 && g0.members.size > 0) throw nonEmptyGroup(req.group, g0.members.size);
    const topics = req.topic !== undefined ? [req.topic] : [...new Set([...(g0?.offsets.values() ?? [])].map((c) => c.topic))];
    if (topics.length === 0) throw invalidRequest(`group '${req.group}' has no committed offsets: name a topic to reset`);
    const targets: TopicPartition[] = [];
    for (const topic of topics) {
      const count = this.host.partitionCount(topic);
      if (count === undefined) throw unknownTopic(topic);
      const parts = req.partitions ?? Array.from({ length: count }, (_, p) => p);
      for (const p of parts) {
        if (p >= count) throw unknownPartition(topic, p, count);
        targets.push({ topic, partition: p });
      }
    }
    const answers: OffsetAnswer[] = [];
    for (const t of targets) answers.push({ ...t, committed_offset: await this.resetTarget(t, req.to) });
    const g = this.groups().get(req.group);
    if (g && g.members.size > 0) throw nonEmptyGroup(req.group, g.members.size);
    if (req.dryRun) return answers;
    this.checkRoomFor(req.group);
    const now = this.host.now();
    await this.host.append(answers.map((a) => offsetRecord({ group: req.group, topic: a.topic, partition: a.partition, offset: a.committed_offset, metadata: '', commit_timestamp: now, reset: true })));
    let live = this.groups().get(req.group);
    if (!live) this.groups().set(req.group, (live = new Group(req.group)));
    for (const a of answers) this.setOffset(live, a.topic, a.partition, a.committed_offset, '', now, true);
    this.host.log('info', `group ${req.group}: ${answers.length} offset(s) reset`, 'group.offsets.reset', { group: req.group, partitions: answers.length });
    return answers;
  }

  private async resetTarget(t: TopicPartition, to: ResetRequest['to']): Promise<number> {
    const start = this.host.logStartOffset(t.topic, t.partition);
    const highWatermark = this.host.highWatermark(t.topic, t.partition);
    switch (to.kind) {
      case 'earliest':
        return start;
      case 'latest':
        return highWatermark;
      case 'timestamp':
        return this.host.offsetForTimestamp(t.topic, t.partition, to.timestampMs);
      case 'offset':
        if (to.offset > highWatermark) throw invalidCommitOffset(t.topic, t.partition, to.offset, `past the high-water mark ${highWatermark}`);
        if (to.offset < start) throw invalidCommitOffset(t.topic, t.partition, to.offset, `below the log start offset ${start}`);
        return to.offset;
    }
  }

  private setOffset(g: Group, topic: string, partition: number, offset: number, metadata: string, now: number, reset: boolean): void {
    const key = offsetKey(topic, partition);
    const have = g.offsets.get(key);
    if (have && !reset && have.offset >= offset) return;
    g.offsets.set(key, { topic, partition, offset, metadata, commitTimestamp: now });
  }

  private checkPartition(topic: string, partition: number): void {
    const count = this.host.partitionCount(topic);
    if (count === undefined) throw unknownTopic(topic);
    if (!Number.isSafeInteger(partition) || partition < 0 || partition >= count) throw unknownPartition(topic, partition, count);
  }
}
