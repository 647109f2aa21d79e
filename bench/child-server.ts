import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';

/**
 * A server the bench runs in its own process (so it does not share the client's event loop) that
 * prints the port it listens on as its first line: the echo server, the null Kafka broker.
 */
export class ChildServer {
  private constructor(
    private readonly proc: ChildProcess,
    readonly port: number,
  ) {}

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Spawns `node args…` and waits for its port line; `name` says which server in the error. */
  static async start(name: string, args: string[], options: SpawnOptions = {}): Promise<ChildServer> {
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], ...options });
    const port = await new Promise<number>((resolve, reject) => {
      let text = '';
      proc.stdout!.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('\n')) resolve(Number(text.trim()));
      });
      proc.once('exit', (code) => reject(new Error(`${name} exited (${code}) before listening`)));
    });
    return new ChildServer(proc, port);
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = once(this.proc, 'exit');
    this.proc.kill('SIGTERM');
    await exited;
  }
}
