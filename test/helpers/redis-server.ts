import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.js';

export interface RedisServerOptions {
  /** Keep data across kill + launch (append-only file, fsync always); default off: a restart comes back empty. */
  persist?: boolean;
}

/** A real redis-server on a free loopback port, data in a temp folder; for integration tests. */
export class RedisServer {
  private proc: ChildProcess | null = null;

  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly options: RedisServerOptions = {},
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const dir = await mkdtemp(join(tmpdir(), 'yak-redis-'));
    const r = new RedisServer(await freePort(), dir, options);
    await r.launch();
    return r;
  }

  async launch(): Promise<void> {
    const bin = process.env.REDIS_SERVER_BIN ?? 'redis-server';
    const persistence = this.options.persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    this.proc = spawn(bin, ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', ...persistence], {
      stdio: 'ignore',
    });
    await waitFor(`redis-server on port ${this.port}`, () => ping(this.port), 10_000);
  }

  /** SIGKILL, wait for exit. With no persistence configured, a restart comes back empty. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
    this.proc = null;
  }

  running(): boolean {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** SIGSTOP / SIGCONT and the like, for fault tests. */
  signal(sig: NodeJS.Signals): void {
    this.proc?.kill(sig);
  }

  /** Delete the data files (while killed), so the next launch comes back empty even when persisting. */
  async wipe(): Promise<void> {
    for (const name of await readdir(this.dir)) await rm(join(this.dir, name), { recursive: true, force: true });
  }

  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.setTimeout(500);
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    s.on('error', () => resolve(false));
    s.on('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}
