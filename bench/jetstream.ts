import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect, StorageType, type JetStreamClient, type NatsConnection } from 'nats';
import { freePort } from '../testkit/ports.js';
import { sleep } from '../testkit/wait.js';

const STREAM = 'BENCH';

/** Why the JetStream rows cannot run here, or null when nats-server is on PATH. */
export function jetStreamMissing(): string | null {
  const r = spawnSync(process.env.NATS_SERVER_BIN ?? 'nats-server', ['--version'], { stdio: 'ignore' });
  return r.error || r.status !== 0 ? 'nats-server is not on PATH (Debian: apt-get install nats-server; or set NATS_SERVER_BIN)' : null;
}

/**
 * NATS JetStream beside YAK: one `nats-server -js` on a free loopback port with its store in a
 * temp folder (file storage, one replica: it has no peers here), driven by the official `nats`
 * client. A publish is awaited until JetStream acknowledges it as stored, as a YAK produce is
 * answered once committed. JetStream syncs its files every 2 minutes by default (`sync_interval`),
 * looser than the brokers' `--fsync interval` (1 s).
 */
export class JetStreamServer {
  private constructor(
    private readonly proc: ChildProcess,
    private readonly dir: string,
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
  ) {}

  get pid(): number | undefined {
    return this.proc.pid;
  }

  static async start(): Promise<JetStreamServer> {
    const dir = await mkdtemp(join(tmpdir(), 'yak-bench-nats-'));
    const port = await freePort();
    const proc = spawn(process.env.NATS_SERVER_BIN ?? 'nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], { stdio: 'ignore' });
    let nc: NatsConnection | undefined;
    try {
      for (let i = 0; ; i++) {
        try {
          nc = await connect({ servers: `127.0.0.1:${port}` });
          break;
        } catch (err) {
          if (i > 100 || proc.exitCode !== null) throw err;
          await sleep(100);
        }
      }
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: STREAM, subjects: ['bench.>'], storage: StorageType.File, num_replicas: 1 });
      return new JetStreamServer(proc, dir, nc, nc.jetstream());
    } catch (err) {
      await nc?.close();
      proc.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** `n` messages on `subject`, published with `inFlight` acknowledgements awaited at a time (setup for consume). */
  async fill(subject: string, n: number, payload: (i: number) => string, inFlight = 1000): Promise<void> {
    for (let at = 0; at < n; at += inFlight) {
      const batch: Promise<unknown>[] = [];
      for (let i = at; i < Math.min(n, at + inFlight); i++) batch.push(this.js.publish(subject, payload(i)));
      await Promise.all(batch);
    }
  }

  /** Reads `n` messages of `subject` from the start with an ordered consumer, each payload JSON.parsed; records/s. */
  async consume(subject: string, n: number): Promise<number> {
    const t0 = performance.now();
    // One subject as a string, not a list: servers before 2.10 (Debian 12 has 2.9) know only filter_subject.
    const consumer = await this.js.consumers.get(STREAM, { filterSubjects: subject });
    const messages = await consumer.consume({ max_messages: 10_000 });
    // A consumer that stops delivering must fail the row, not hang the run.
    const watchdog = setTimeout(() => messages.stop(), 30_000 + n);
    let count = 0;
    try {
      for await (const m of messages) {
        JSON.parse(m.string());
        if (++count >= n) break;
      }
    } finally {
      clearTimeout(watchdog);
      await messages.close();
    }
    if (count < n) throw new Error(`JetStream delivered ${count} of ${n} messages of ${subject}`);
    return (count * 1000) / (performance.now() - t0);
  }

  async purge(subject: string): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    await jsm.streams.purge(STREAM, { filter: subject });
  }

  async stop(): Promise<void> {
    await this.nc.close().catch(() => {});
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = once(this.proc, 'exit');
      this.proc.kill('SIGTERM');
      await Promise.race([exited, sleep(5000).then(() => this.proc.kill('SIGKILL'))]);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
