import { YakClient } from '../../../../broker-runtime/src/client/index.js';
import type {
  BatchRecord,
  BatchResult,
  ConsumeRequest,
  ConsumeResult,
  ProduceRequest,
  ProduceResult,
  TopicConfigChange,
  TopicConfigView,
  TopicSummary,
} from '../../../shared/cluster-api.js';

/**
 * The renderer's data calls, carried by broker-runtime's own client so the UI sees what a real
 * client sees: leader discovery, NOT_LEADER redirects, retries. Converts the wire's snake_case to
 * the ClusterApi's camelCase.
 */
export interface DataClient {
  produce(request: ProduceRequest, signal?: AbortSignal): Promise<ProduceResult>;
  produceBatch(topic: string, records: BatchRecord[], signal?: AbortSignal): Promise<BatchResult>;
  consume(request: ConsumeRequest): Promise<ConsumeResult>;
  listTopics(): Promise<TopicSummary[]>;
  createTopic(name: string, partitions: number): Promise<void>;
  setTopicConfig(name: string, change: TopicConfigChange): Promise<TopicConfigView>;
}

/**
 * Produces end at the first NOT_ENOUGH_REPLICAS instead of retrying it for seconds: the in-sync set
 * grows back only when a broker returns, and the user should hear at once that writes are blocked.
 */
const PRODUCE_OPTIONS = { stopOn: ['NOT_ENOUGH_REPLICAS'] } as const;

function record(r: BatchRecord): { key?: string | null; payload: unknown; partition?: number; headers?: Record<string, string> } {
  return {
    payload: r.payload,
    ...(r.key !== undefined ? { key: r.key } : {}),
    ...(r.partition !== undefined ? { partition: r.partition } : {}),
    ...(r.headers !== undefined ? { headers: r.headers } : {}),
  };
}

export function createDataClient(brokerUrls: string[], token: string | null = null): DataClient {
  const client = new YakClient({ brokers: brokerUrls, ...(token ? { token } : {}) });
  const listTopics = async (): Promise<TopicSummary[]> => {
    const answer = await client.topics();
    return answer.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partition: p.partition, highWatermark: p.high_watermark })),
    }));
  };
  return {
    async produce(request, signal) {
      const answer = await client.produce(request.topic, record(request), { ...PRODUCE_OPTIONS, ...(signal ? { signal } : {}) });
      return { topic: answer.topic, partition: answer.partition, offset: answer.offset };
    },
    async produceBatch(topic, records, signal) {
      const answer = await client.produceBatch(topic, records.map(record), { ...PRODUCE_OPTIONS, ...(signal ? { signal } : {}) });
      return { topic: answer.topic, results: answer.results.map((r) => ({ partition: r.partition, offset: r.offset })) };
    },
    async consume(request) {
      let offset = 0;
      if (typeof request.offset === 'number') offset = request.offset;
      else if (request.offset === 'latest') {
        // Unknown topic or partition: offset 0 lets the broker answer with the precise error.
        const topic = (await listTopics()).find((t) => t.name === request.topic);
        offset = topic?.partitions.find((p) => p.partition === request.partition)?.highWatermark ?? 0;
      }
      const answer = await client.consume(request.topic, request.partition, offset, {
        ...(request.max !== undefined ? { max: request.max } : {}),
        ...(request.waitMs !== undefined ? { waitMs: request.waitMs } : {}),
      });
      return {
        topic: answer.topic,
        partition: answer.partition,
        records: answer.records.map((r) => ({ offset: r.offset, key: r.key, payload: r.payload, timestamp: r.timestamp, headers: r.headers ?? {} })),
        nextOffset: answer.next_offset,
        highWatermark: answer.high_watermark,
      };
    },
    listTopics,
    async createTopic(name, partitions) {
      await client.createTopic(name, partitions);
    },
    async setTopicConfig(name, change) {
      const answer = await client.setTopicConfig(name, change);
      return { name: answer.name, config: answer.config, overrides: answer.overrides };
    },
  };
}

/** One client per set of broker URLs: rebuilt when brokers are added, removed or move ports. */
export class DataClientPool {
  private key = '';
  private client: DataClient | null = null;

  constructor(private readonly factory: (urls: string[], token: string | null) => DataClient = createDataClient) {}

  get(urls: string[], token: string | null = null): DataClient | null {
    if (urls.length === 0) return null;
    const key = `${urls.join(' ')} ${token ?? ''}`;
    if (!this.client || key !== this.key) {
      this.client = this.factory(urls, token);
      this.key = key;
    }
    return this.client;
  }
}
