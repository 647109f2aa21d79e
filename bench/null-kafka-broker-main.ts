// A null Kafka broker: the process bench/null-kafka-broker.ts starts. It answers ApiVersions,
// Metadata and Produce at once with valid answers (YAK's own codecs, so the bytes a client decodes
// are YAK's) and throws the records away: no log, no replication, no CRC check, no record decode.
// KafkaJS against it shows what KafkaJS can do on this machine at all. Prints its port, then serves
// until SIGTERM. Plain TCP, no SASL: the ceiling of the plain cluster's rows.
import net from 'node:net';
import { encodeApiVersions } from '../broker-runtime/src/kafka/apis/api-versions.js';
import { decodeMetadata, encodeMetadata } from '../broker-runtime/src/kafka/apis/metadata.js';
import { decodeProduce, encodeProduce } from '../broker-runtime/src/kafka/apis/produce.js';
import type { KafkaClusterView } from '../broker-runtime/src/kafka/backend.js';
import { API } from '../broker-runtime/src/kafka/protocol/api-keys.js';
import { Reader } from '../broker-runtime/src/kafka/protocol/reader.js';
import type { Writer } from '../broker-runtime/src/kafka/protocol/writer.js';

const NODE_ID = 1;
/** Every topic asked for exists with this many partitions, all led by this process. */
const PARTITIONS = Number(process.env.NULL_KAFKA_PARTITIONS ?? '3');

/** Next offset per topic/partition, so each answer's base offset moves on as a real log's would. */
const offsets = new Map<string, number>();

function answer(apiKey: number, version: number, r: Reader, view: KafkaClusterView): Writer | null {
  switch (apiKey) {
    case API.ApiVersions:
      return encodeApiVersions(version, false);
    case API.Metadata: {
      const req = decodeMetadata(r, version);
      const names = req.topics ?? [];
      return encodeMetadata(version, view, names.map((name) => ({ error: 0, name, partitions: PARTITIONS })));
    }
    case API.Produce: {
      const req = decodeProduce(r);
      if (req.acks === 0) return null;
      const topics = req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => {
          // The record count from the batch header (offset 57: records count), not a decode.
          const count = p.records && p.records.length >= 61 ? p.records.readInt32BE(57) : 1;
          const key = `${t.name}/${p.index}`;
          const baseOffset = offsets.get(key) ?? 0;
          offsets.set(key, baseOffset + count);
          return { index: p.index, error: 0, baseOffset, message: null };
        }),
      }));
      return encodeProduce(version, topics);
    }
    default:
      throw new Error(`api key ${apiKey} is not served by the null broker`);
  }
}

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  const port = (server.address() as net.AddressInfo).port;
  const view: KafkaClusterView = {
    cluster: 'null-kafka',
    selfId: 'null',
    self: { node_id: NODE_ID, host: '127.0.0.1', port },
    leader: { id: 'null', kafka: { node_id: NODE_ID, host: '127.0.0.1', port } },
    epoch: 1,
    brokers: [{ id: 'null', kafka: { node_id: NODE_ID, host: '127.0.0.1', port } }],
    inSync: ['null'],
  };
  let buf: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    const out: Buffer[] = [];
    try {
      while (buf.length >= 4) {
        const size = buf.readInt32BE(0);
        if (buf.length < 4 + size) break;
        const r = new Reader(buf.subarray(4, 4 + size));
        buf = buf.subarray(4 + size);
        const apiKey = r.int16();
        const version = r.int16();
        const correlationId = r.int32();
        r.nullableString(); // client id
        const body = answer(apiKey, version, r, view);
        if (body === null) continue;
        const bytes = body.view();
        const head = Buffer.allocUnsafe(8);
        head.writeInt32BE(bytes.length + 4, 0);
        head.writeInt32BE(correlationId, 4);
        out.push(head, bytes);
      }
    } catch (err) {
      process.stderr.write(`null kafka broker: closing a connection: ${(err as Error).message}\n`);
      socket.destroy();
      return;
    }
    // All answers to what this chunk completed leave in one write, as a broker flushes a batch.
    if (out.length > 0) socket.write(Buffer.concat(out));
  });
  socket.on('error', () => socket.destroy());
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`));
process.on('SIGTERM', () => process.exit(0));
// The bench holds our stdin open: when it exits, however it exits, so does this process.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
