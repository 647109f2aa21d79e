import { MAX_OFFSET_METADATA_BYTES } from '../../../groups/index.js';
import { checkGroup, denied, principalName, type RequestContext } from '../../context.js';
import { KAFKA_ERRORS, KafkaError } from '../../protocol/error-codes.js';
import type { Reader } from '../../protocol/reader.js';
import { Writer } from '../../protocol/writer.js';
import { groupCodeOf } from './group-codes.js';

/**
 * OffsetCommit 2–7 and OffsetFetch 1–5 onto the group coordinator. A partition the coordinator
 * could not take (unknown, not permitted, metadata too long) is refused on its own and the others
 * are committed together; the coordinator writes them to its offsets topic, committed to every
 * in-sync replica, before this answers — a committed offset survives a failover.
 */

export interface OffsetCommitRequest {
  group: string;
  generation: number;
  memberId: string;
  topics: { name: string; partitions: { index: number; offset: number; metadata: string | null }[] }[];
}

export function decodeOffsetCommit(r: Reader, version: number): OffsetCommitRequest {
  const group = r.string();
  const generation = r.int32();
  const memberId = r.string();
  if (version >= 7) r.nullableString(); // group_instance_id
  if (version >= 2 && version <= 4) r.int64(); // retention_time_ms: offsets are kept as long as the group
  const topics = r.array((r) => ({
    name: r.string(),
    partitions: r.array((r) => {
      const index = r.int32();
      const offset = r.int64();
      if (version >= 6) r.int32(); // committed_leader_epoch
      return { index, offset, metadata: r.nullableString() };
    }),
  }));
  return { group, generation, memberId, topics };
}

export async function handleOffsetCommit(req: OffsetCommitRequest, ctx: RequestContext): Promise<Writer> {
  const errors = new Map<string, number>();
  const key = (t: string, p: number) => `${t}\u0000${p}`;
  const offsets: { topic: string; partition: number; offset: number; metadata: string }[] = [];
  for (const t of req.topics) {
    for (const p of t.partitions) {
      try {
        checkGroup(ctx, req.group);
        const why = denied(ctx, { op: 'consume', topic: t.name });
        if (why) throw new KafkaError('TOPIC_AUTHORIZATION_FAILED', why);
        if (!ctx.backend.partition(t.name, p.index)) throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `${t.name}/${p.index}`);
        if (Buffer.byteLength(p.metadata ?? '') > MAX_OFFSET_METADATA_BYTES) throw new KafkaError('OFFSET_METADATA_TOO_LARGE', `over ${MAX_OFFSET_METADATA_BYTES} bytes`);
        if (!Number.isSafeInteger(p.offset) || p.offset < 0) throw new KafkaError('OFFSET_OUT_OF_RANGE', `offset ${p.offset}`);
        offsets.push({ topic: t.name, partition: p.index, offset: p.offset, metadata: p.metadata ?? '' });
      } catch (err) {
        errors.set(key(t.name, p.index), groupCodeOf(err));
      }
    }
  }
  if (offsets.length > 0) {
    try {
      await ctx.backend.groups.commit({ group: req.group, memberId: req.memberId, generation: req.generation, offsets, ...principalName(ctx) });
    } catch (err) {
      const code = groupCodeOf(err);
      for (const offset of offsets) errors.set(key(offset.topic, offset.partition), code);
    }
  }
  const w = new Writer(64);
  if (ctx.apiVersion >= 3) w.int32(0);
  w.array(req.topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => w.int32(p.index).int16(errors.get(key(t.name, p.index)) ?? 0));
  });
  return w;
}

export interface OffsetFetchRequest {
  group: string;
  /** null (v2+): every partition the group has committed. */
  topics: { name: string; partitions: number[] }[] | null;
}

export function decodeOffsetFetch(r: Reader, version: number): OffsetFetchRequest {
  const group = r.string();
  const item = (r: Reader) => ({ name: r.string(), partitions: r.array((r) => r.int32()) });
  const topics = version >= 2 ? r.nullableArray(item) : r.array(item);
  return { group, topics };
}

export function handleOffsetFetch(asked: OffsetFetchRequest, ctx: RequestContext): Promise<Writer> {
  // A partition named twice is answered once: each row carries the committed offset's metadata
  // (up to 4 KB), so 5,000 copies of one partition (20 KB) were answered with 20 MB.
  const req: OffsetFetchRequest = { group: asked.group, topics: asked.topics && distinctPartitions(asked.topics) };
  let error = 0;
  let committed: { topic: string; partition: number; offset: number; metadata: string }[] = [];
  try {
    checkGroup(ctx, req.group);
    committed = ctx.backend.groups.fetchOffsets(req.group, req.topics?.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p }))));
  } catch (err) {
    error = groupCodeOf(err);
  }
  const byTopic = new Map<string, { index: number; offset: number; metadata: string | null; error: number }[]>();
  const add = (topic: string, row: { index: number; offset: number; metadata: string | null; error: number }) => {
    let rows = byTopic.get(topic);
    if (!rows) byTopic.set(topic, (rows = []));
    rows.push(row);
  };
  if (req.topics) {
    const found = new Map(committed.map((c) => [`${c.topic}\u0000${c.partition}`, c]));
    for (const t of req.topics) {
      const why = denied(ctx, { op: 'consume', topic: t.name });
      for (const p of t.partitions) {
        const c = found.get(`${t.name}\u0000${p}`);
        // No commit yet: offset -1, no error (the consumer applies its auto.offset.reset).
        if (why) add(t.name, { index: p, offset: -1, metadata: null, error: KAFKA_ERRORS.TOPIC_AUTHORIZATION_FAILED });
        else add(t.name, { index: p, offset: c?.offset ?? -1, metadata: c ? c.metadata : '', error: error });
      }
    }
  } else {
    for (const c of committed) if (!denied(ctx, { op: 'consume', topic: c.topic })) add(c.topic, { index: c.partition, offset: c.offset, metadata: c.metadata, error: 0 });
  }
  const w = new Writer(128);
  if (ctx.apiVersion >= 3) w.int32(0);
  w.array([...byTopic], (w, [name, rows]) => {
    w.string(name);
    w.array(rows, (w, p) => {
      w.int32(p.index).int64(p.offset);
      if (ctx.apiVersion >= 5) w.int32(-1); // committed_leader_epoch: not kept
      w.nullableString(p.metadata).int16(p.error);
    });
  });
  if (ctx.apiVersion >= 2) w.int16(error);
  return Promise.resolve(w);
}

/** The topics in their first order, each once, with its partitions each once. */
function distinctPartitions(topics: readonly { name: string; partitions: number[] }[]): { name: string; partitions: number[] }[] {
  const byName = new Map<string, Set<number>>();
  for (const t of topics) {
    let set = byName.get(t.name);
    if (!set) byName.set(t.name, (set = new Set()));
    for (const p of t.partitions) set.add(p);
  }
  return [...byName].map(([name, set]) => ({ name, partitions: [...set] }));
}
