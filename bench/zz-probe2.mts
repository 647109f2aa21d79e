import net from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { startCluster } from './environment.js';
import { SecurityMaterial } from './security.js';
import { ensureTopic } from './workloads/context.js';
import { payloadText } from './payload.js';
import { runFor } from './rounds.js';
const settings = { brokers: 3, partitions: 3, leaseSeconds: 2, renewSeconds: 0.5, minInsync: 1, replicaLagSeconds: 2, fsync: 'interval' as const, fsyncIntervalMs: 1000, auth: false, tls: false };
const material = await SecurityMaterial.make(settings);
const cluster = await startCluster(settings, material);
try {
  const leader = (await cluster.waitForLeader()).broker;
  await cluster.waitForInSync(3);
  await ensureTopic(leader.url, 'probe', 3, {});
  let dataEvents = 0, dataBytes = 0;
  const kafka = new Kafka({ clientId: 'probe', brokers: cluster.bootstrap(), logLevel: logLevel.NOTHING, socketFactory: ({ host, port, onConnect }) => { const s = net.connect({ host, port }, onConnect); s.on('data', (d) => { dataEvents++; dataBytes += d.length; }); return s; } });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const batches = [0, 1, 2].map((p) => [{ value: payloadText(p), partition: p }]);
  let next = 0, records = 0;
  await runFor(1000, 32, async () => { await producer.send({ topic: 'probe', acks: -1, messages: batches[next++ % 3]! }); records++; });
  dataEvents = 0; records = 0;
  const elapsed = await runFor(4000, 32, async () => { await producer.send({ topic: 'probe', acks: -1, messages: batches[next++ % 3]! }); records++; });
  console.log(`${process.env.YAK_BENCH_BROKER_BIN ? 'base' : 'new'}: ${Math.round(records * 1000 / elapsed)} rec/s; answers per data event ${(records / dataEvents).toFixed(2)}`);
  await producer.disconnect();
} finally { await cluster.stop(); await material.remove(); }
