// KafkaJS in a process of its own (bench/kafkajs-child.ts forks it): the same KafkajsProducer the
// bench process can run, driven over IPC one round at a time, so that KafkaJS has an event loop and
// a heap to itself, as in a Node service that produces to Kafka.
import { KafkajsProducer } from './kafkajs-producer.js';
import type { ChildCommand, ChildReply } from './kafkajs-child.js';

let producer: KafkajsProducer | null = null;
const reply = (m: ChildReply) => process.send!(m);

process.on('message', (m: ChildCommand) => {
  void (async () => {
    try {
      switch (m.type) {
        case 'connect':
          producer = await KafkajsProducer.connect(m.bootstrap, { ...(m.security.token ? { token: m.security.token } : {}), ...(m.security.ca ? { ca: Buffer.from(m.security.ca) } : {}) }, m.topic, m.partitions, m.batch, m.noDelay);
          reply({ type: 'ready' });
          return;
        case 'round': {
          const r = await producer!.round(m.ms, [], m.senders, m.perSend);
          reply({ type: 'round', rate: r.rate, records: r.records, clientCpuUs: r.clientCpuUs });
          return;
        }
        case 'close':
          await producer?.close();
          reply({ type: 'closed' });
          process.disconnect();
          return;
      }
    } catch (err) {
      reply({ type: 'error', message: (err as Error).stack ?? String(err) });
    }
  })();
});
