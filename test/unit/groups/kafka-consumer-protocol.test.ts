import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeKafkaAssignment } from '../../../broker-runtime/src/groups/kafka-consumer-protocol.js';

/** Kafka's ConsumerProtocolAssignment v0: int16 version, [topic: int16-length string, [int32 partition]], user data bytes. */
function assignment(topics: [string, number[]][], userData = Buffer.alloc(0)): Buffer {
  const parts: Buffer[] = [Buffer.from([0, 0])];
  const count = Buffer.alloc(4);
  count.writeInt32BE(topics.length);
  parts.push(count);
  for (const [name, partitions] of topics) {
    const n = Buffer.alloc(2);
    n.writeInt16BE(Buffer.byteLength(name));
    parts.push(n, Buffer.from(name));
    const list = Buffer.alloc(4 + 4 * partitions.length);
    list.writeInt32BE(partitions.length);
    partitions.forEach((p, i) => list.writeInt32BE(p, 4 + 4 * i));
    parts.push(list);
  }
  const ud = Buffer.alloc(4);
  ud.writeInt32BE(userData.length);
  parts.push(ud, userData);
  return Buffer.concat(parts);
}

test("a Kafka client's assignment is read to show who holds what; anything unreadable shows nothing", () => {
  assert.deepEqual(decodeKafkaAssignment(assignment([['orders', [0, 2]], ['audit', [1]]])), [
    { topic: 'orders', partition: 0 },
    { topic: 'orders', partition: 2 },
    { topic: 'audit', partition: 1 },
  ]);
  assert.deepEqual(decodeKafkaAssignment(Buffer.from([0, 0, 0, 0, 0, 9])), []);
  assert.deepEqual(decodeKafkaAssignment(Buffer.alloc(0)), []);
});
