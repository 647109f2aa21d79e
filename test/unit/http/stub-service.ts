import type { AddressInfo } from 'node:net';
import type { BrokerService, ConsumedRecord, ProduceRecord } from '../../../broker-runtime/src/broker/service.js';
import { createBrokerServer } from '../../../broker-runtime/src/http/index.js';

/** A BrokerService that records every call and answers from plain data; override any method. */
export interface StubBroker {
  service: BrokerService;
  calls: { method: string; args: unknown[] }[];
  /** What consume() answers with (offsets from the request on). */
  stored: ConsumedRecord[];
}

export function stubService(overrides: Partial<BrokerService> = {}): StubBroker {
  const calls: StubBroker['calls'] = [];
  const stored: ConsumedRecord[] = [];
  const base: BrokerService = {
    async produce(_topic: string, records: ProduceRecord[]) {
      return records.map((r, i) => ({ partition: r.partition ?? 0, offset: 100 + i }));
    },
    async consume(topic, partition, offset, max) {
      const records = stored.filter((r) => r.offset >= offset).slice(0, max);
      const last = records.at(-1);
      return { topic, partition, records, next_offset: last ? last.offset + 1 : offset, high_watermark: stored.length };
    },
    topics: () => [{ name: 'orders', partitions: [{ partition: 0, high_watermark: 3, log_end_offset: 3, log_start_offset: 0 }], config: { 'retention.ms': 604_800_000, 'retention.bytes': -1, 'compression.type': 'producer', 'min.insync.replicas': 1, 'cleanup.policy': 'delete', 'delete.retention.ms': 86_400_000 } }],
    async createTopic() {},
    topicConfig: (name: string) => ({ name, config: { 'retention.ms': 604_800_000, 'retention.bytes': -1, 'compression.type': 'producer', 'min.insync.replicas': 1, 'cleanup.policy': 'delete', 'delete.retention.ms': 86_400_000 }, overrides: {} }),
    async setTopicConfig(name: string) {
      return { name, config: { 'retention.ms': 1000, 'retention.bytes': -1, 'compression.type': 'producer', 'min.insync.replicas': 1, 'cleanup.policy': 'delete', 'delete.retention.ms': 86_400_000 }, overrides: { 'retention.ms': 1000 } };
    },
    leader: () => ({ leader: { id: 'b1', url: 'http://127.0.0.1:5001' }, epoch: 7 }),
    async cluster() {
      return { cluster: 'yak', epoch: 7, leader: { id: 'b1', url: 'http://127.0.0.1:5001' }, brokers: [] };
    },
    health: () => ({ status: 'ok', id: 'b1', role: 'leader', epoch: 7, lease_ms_left: 9000, redis: true, unclean_partitions: [], storage: { state: 'ok', failed_writes: 0, failed_writes_total: 0, faults_total: 0 }, instance: 'i-1', cluster_identity: 'u-1', advertised_url: { url: 'http://127.0.0.1:5001', check: 'ok' }, replication: null, degraded_reasons: [] }),
    metrics: () => ({ records_produced_total: 42, in_sync: true, role: 'leader' }),
    prometheus: () => '# TYPE yak_records_produced_total counter\nyak_records_produced_total 42\n',
    async replicate(frame: Buffer) {
      return Buffer.from([...frame].reverse());
    },
  };
  const service = { ...base, ...overrides } as BrokerService;
  const recorded = {} as Record<string, unknown>;
  for (const [name, fn] of Object.entries(service)) {
    recorded[name] = typeof fn === 'function' ? (...args: unknown[]) => (calls.push({ method: name, args }), fn(...args)) : fn;
  }
  return { service: recorded as unknown as BrokerService, calls, stored };
}

export interface RunningServer {
  base: string;
  logged: string[];
  close(): Promise<void>;
}

/** A real broker HTTP server on 127.0.0.1, on a free port. */
export async function startServer(service: BrokerService, maxMessageBytes = 1024, allowedOrigins: string[] = []): Promise<RunningServer> {
  const logged: string[] = [];
  const server = createBrokerServer(service, { maxMessageBytes, allowedOrigins, logger: (line) => logged.push(line) });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    logged,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** fetch + parsed JSON body. */
export async function request(
  url: string,
  init: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; json: Record<string, unknown>; text: string }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // left empty: the caller asserts on text
  }
  return { status: res.status, headers: res.headers, json, text };
}
