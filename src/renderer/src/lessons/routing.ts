import { routeKey, hex32 } from '../lib/keyRouting';
import { currentLeader, ensureTopic, runTag, type LessonContext } from './context';

export const ROUTING_TOPIC = 'lesson-routing';
export const ROUTING_PARTITIONS = 3;

/**
 * Lesson 1: where a key goes. The partition is computed here, in the browser, with the broker's
 * own murmur2; then the record is sent without a partition, so the leader chooses; then it is read
 * back from the partition and offset the leader answered, to see the key really is there.
 */
export async function runRouting(ctx: LessonContext, key: string): Promise<string> {
  const partitions = await ensureTopic(ctx, ROUTING_TOPIC, ROUTING_PARTITIONS);
  const route = routeKey(key, partitions);
  ctx.record({
    kind: 'predicted',
    source: 'browser',
    tone: 'info',
    partition: route.partition,
    text: `Predicted before sending: murmur2("${key}") = ${hex32(route.hash)}, positive ${route.positive}, mod ${partitions} → partition ${route.partition}`,
  });

  const leader = currentLeader(ctx.snapshot());
  const tag = runTag();
  const sent = await ctx.api.produce({ topic: ROUTING_TOPIC, key, payload: { lesson: 'routing', run: tag } });
  ctx.record({
    kind: 'committed',
    source: 'broker',
    tone: sent.partition === route.partition ? 'ok' : 'bad',
    partition: sent.partition,
    offset: sent.offset,
    ...(leader ? { broker: leader.id, epoch: leader.epoch } : {}),
    text: `The leader${leader ? ` ${leader.id} (epoch ${leader.epoch})` : ''} committed it at partition ${sent.partition}, offset ${sent.offset}`,
  });

  const back = await ctx.api.consume({ topic: ROUTING_TOPIC, partition: sent.partition, offset: sent.offset, max: 1 });
  const record = back.records[0];
  const found = record !== undefined && record.offset === sent.offset && record.key === key && (record.payload as { run?: string } | null)?.run === tag;
  ctx.record({
    kind: 'read-back',
    source: 'broker',
    tone: found ? 'ok' : 'bad',
    partition: sent.partition,
    offset: sent.offset,
    text: found
      ? `Read back from partition ${sent.partition} at offset ${sent.offset}: key "${key}" is there (high-water mark ${back.highWatermark})`
      : `Read back from partition ${sent.partition} at offset ${sent.offset}: the record is not the one sent`,
  });

  const same = sent.partition === route.partition;
  return same
    ? `The browser and the broker agree: "${key}" hashes to partition ${route.partition} of ${partitions}. Every record with this key lands there, in order, as long as the topic keeps ${partitions} partitions — which is why Kafka never changes a topic's partition count behind your back.`
    : `They disagree: the browser predicted ${route.partition}, the broker chose ${sent.partition}. That would be a bug in one of them.`;
}
