import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../ports.js';
import { waitFor } from '../wait.js';

export interface RedisServerOptions {
  /** Keep data across kill + launch (append-only file, fsync always); default off: a restart comes back empty. */
  persist?: boolean;
  /** TLS only (no plain port) with a password: clients use rediss://:<password>@127.0.0.1:<port>. */
  tls?: RedisTlsOptions;
  /** requirepass (and masterauth, for a replica of a server with the same password), plain TCP. */
  password?: string;
  /** More redis-server arguments (`--replicaof 127.0.0.1 6379`, `--cluster-enabled yes`, …). */
  extraArgs?: string[];
}

export interface RedisTlsOptions {
  certFile: string;
  keyFile: string;
  caFile: string;
  password: string;
  /** Ask clients for a certificate signed by caFile (redis's tls-auth-clients); default no. */
  authClients?: boolean;
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
    const t = this.options.tls;
    if (t) return `rediss://:${encodeURIComponent(t.password)}@127.0.0.1:${this.port}`;
    const pw = this.options.password;
    return pw ? `redis://:${encodeURIComponent(pw)}@127.0.0.1:${this.port}` : `redis://127.0.0.1:${this.port}`;
  }

  static async start(options: RedisServerOptions = {}, port?: number): Promise<RedisServer> {
    const dir = await mkdtemp(join(tmpdir(), 'yak-redis-'));
    const r = new RedisServer(port ?? (await freePort()), dir, options);
    await r.launch();
    return r;
  }

  /** `extraArgs` replace the ones given at start for this and later launches (a replica relaunched under a new master). */
  async launch(extraArgs?: string[]): Promise<void> {
    if (extraArgs) (this as { options: RedisServerOptions }).options = { ...this.options, extraArgs };
    const bin = process.env.REDIS_SERVER_BIN ?? 'redis-server';
    const persistence = this.options.persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    const t = this.options.tls;
    const listen = t
      ? ['--port', '0', '--tls-port', String(this.port), '--tls-cert-file', t.certFile, '--tls-key-file', t.keyFile,
        '--tls-ca-cert-file', t.caFile, '--tls-auth-clients', t.authClients ? 'yes' : 'no', '--requirepass', t.password]
      : ['--port', String(this.port), ...(this.options.password ? ['--requirepass', this.options.password, '--masterauth', this.options.password] : [])];
    this.proc = spawn(bin, [...listen, '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', ...persistence, ...(this.options.extraArgs ?? [])], {
      stdio: 'ignore',
    });
    await waitFor(`redis-server on port ${this.port}`, () => (t ? pingTls(this.port, t) : ping(this.port, this.options.password)), 10_000);
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

/** AUTH + PING over TLS, trusting the test CA; `+OK` then `+PONG` means ready. */
function pingTls(port: number, t: RedisTlsOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tls.connect({ port, host: '127.0.0.1', ca: readFileSync(t.caFile), cert: readFileSync(t.certFile), key: readFileSync(t.keyFile) });
    let got = '';
    s.setTimeout(1000);
    s.on('secureConnect', () => s.write(`AUTH ${t.password}\r\nPING\r\n`));
    s.on('data', (d) => {
      got += d.toString();
      if (got.includes('\r\n+') || got.startsWith('-')) {
        s.destroy();
        resolve(got.startsWith('+OK') && got.includes('+PONG'));
      }
    });
    s.on('error', () => resolve(false));
    s.on('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

function ping(port: number, password?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.setTimeout(500);
    s.on('connect', () => s.write(password ? `AUTH ${password}\r\nPING\r\n` : 'PING\r\n'));
    let got = '';
    s.on('data', (d) => {
      got += d.toString();
      if (password && !got.startsWith('-') && !got.includes('+PONG')) return;
      s.destroy();
      resolve(got.includes('+PONG'));
    });
    s.on('error', () => resolve(false));
    s.on('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}
