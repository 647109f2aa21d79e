/**
 * What a new leader pays to rebuild idempotent producers' state from its log (kafka/idempotence/):
 * the read of a partition's last records for `yak.producer` markers that its first idempotent
 * produce there waits for. CPU and wall time per record, three rounds.
 *
 *   node --import tsx bench/kafka-producer-state.ts
 *
 * 200,000 records of ~100 bytes in batches of 100 from 50 producers, in a temp folder.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PartitionProducers } from '../broker-runtime/src/kafka/idempotence/partition-producers.js';
import { encodeMarker, PRODUCER_MARKER } from '../broker-runtime/src/kafka/idempotence/producer-marker.js';
import { openPartitionLog } from '../broker-runtime/src/log/log-loader.js';

const RECORDS = 200_000;
const PER_BATCH = 100;
const PRODUCERS = 50;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'yak-producer-state-'));
  const log = await openPartitionLog(dir, 't', 0, { segmentBytes: 64 << 20, indexIntervalBytes: 4096, fsync: 'never', fsyncIntervalMs: 1000 });
  try {
    const next = new Map<number, number>();
    for (let b = 0; b < RECORDS / PER_BATCH; b++) {
      const producerId = 2 ** 20 + (b % PRODUCERS);
      const baseSequence = next.get(producerId) ?? 0;
      next.set(producerId, baseSequence + PER_BATCH);
      const marker = encodeMarker({ producerId, producerEpoch: 0, baseSequence, count: PER_BATCH });
      const records = Array.from({ length: PER_BATCH }, (_, k) => ({
        key: `key-${k}`,
        payload: JSON.stringify({ b, k, pad: 'x'.repeat(60) }),
        headers: (k === 0 ? { [PRODUCER_MARKER]: marker } : {}) as Record<string, string>,
        timestamp: Date.now(),
      }));
      await log.append(records, 1);
    }
    for (let round = 1; round <= 3; round++) {
      const table = new PartitionProducers(log);
      const cpu = process.cpuUsage();
      const started = performance.now();
      await table.ready(2);
      const wallMs = performance.now() - started;
      const used = process.cpuUsage(cpu);
      const cpuUs = used.user + used.system;
      console.log(`round ${round}: ${RECORDS} records rebuilt in ${wallMs.toFixed(0)} ms wall, ${(cpuUs / 1000).toFixed(0)} ms CPU (${(cpuUs / RECORDS).toFixed(2)} µs CPU per record)`);
    }
  } finally {
    await log.close();
    await rm(dir, { recursive: true, force: true });
  }
}

void main();
