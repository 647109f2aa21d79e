import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

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
  private constructor(
    private readonly proc: ChildProcess,
    readonly port: number,
  ) {}

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get bootstrap(): string[] {
    return [`127.0.0.1:${this.port}`];
  }

  static async start(partitions: number): Promise<NullKafkaBroker> {
    const proc = spawn(process.execPath, ['--import', 'tsx', MAIN], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, NODE_OPTIONS: '', NULL_KAFKA_PARTITIONS: String(partitions) } });
    const port = await new Promise<number>((resolve, reject) => {
      let text = '';
      proc.stdout!.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('\n')) resolve(Number(text.trim()));
      });
      proc.once('exit', (code) => reject(new Error(`the null Kafka broker exited (${code}) before listening`)));
    });
    return new NullKafkaBroker(proc, port);
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = once(this.proc, 'exit');
    this.proc.kill('SIGTERM');
    await exited;
  }
}
