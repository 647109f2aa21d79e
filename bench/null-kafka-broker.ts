import { fileURLToPath } from 'node:url';
import { ChildServer } from './child-server.js';

const MAIN = fileURLToPath(new URL('./null-kafka-broker-main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The ceiling of a Kafka client on this machine, as the echo server is node:http's: a process that
 * answers ApiVersions, Metadata and Produce at once with valid answers and discards the records
 * (bench/null-kafka-broker-main.ts). The same KafkaJS workload against it and against YAK shows
 * what the client can do here at all, and YAK ÷ ceiling what the broker costs. Its own process,
 * like a broker, so it does not share the client's event loop.
 */
export class NullKafkaBroker {
  private constructor(private readonly server: ChildServer) {}

  get pid(): number | undefined {
    return this.server.pid;
  }

  get bootstrap(): string[] {
    return [`127.0.0.1:${this.server.port}`];
  }

  static async start(partitions: number): Promise<NullKafkaBroker> {
    // Its stdin stays open while the bench runs: when the bench exits, however it exits, so does it.
    const options = { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] as ('pipe' | 'inherit')[], env: { ...process.env, NODE_OPTIONS: '', NULL_KAFKA_PARTITIONS: String(partitions) } };
    return new NullKafkaBroker(await ChildServer.start('the null Kafka broker', ['--import', 'tsx', MAIN], options));
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}
