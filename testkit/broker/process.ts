import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BROKER_BIN = fileURLToPath(new URL('../../broker-runtime/bin/yak-broker.js', import.meta.url));

export interface BrokerProcessOptions {
  id: string;
  port: number;
  dataDir: string;
  redisUrl: string;
  cluster: string;
  leaseSeconds: number;
  renewSeconds: number;
  partitions?: number;
  minInsync?: number;
  extra?: string[];
  /** Also append every output line to this file (kept across restarts), for long runs. */
  logFile?: string;
  /** Run this yak-broker entry instead of the repository's (a snapshot that a rebuild cannot change mid-run). */
  bin?: string;
  /** The broker serves HTTPS (extra carries --tls-cert/--tls-key): url is https://. */
  tls?: boolean;
  /**
   * Open-file limit (RLIMIT_NOFILE, soft and hard) of the broker process, set by prlimit(1), which
   * then execs node: the pid and the signals stay the broker's own.
   */
  maxOpenFiles?: number;
}

/** Whether prlimit(1) is on PATH (util-linux), needed for BrokerProcessOptions.maxOpenFiles. */
export function hasPrlimit(): boolean {
  return spawnSync('prlimit', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** One real broker process (the built yak-broker), with its output kept for failure messages. */
export class BrokerProcess {
  private proc: ChildProcess | null = null;
  readonly output: string[] = [];
  exitCode: number | null = null;

  constructor(readonly opts: BrokerProcessOptions) {}

  get id(): string {
    return this.opts.id;
  }

  get url(): string {
    return `${this.opts.tls ? 'https' : 'http'}://127.0.0.1:${this.opts.port}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  running(): boolean {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  start(): void {
    const o = this.opts;
    const args = [
      o.bin ?? BROKER_BIN,
      '--id', o.id,
      '--port', String(o.port),
      '--host', '127.0.0.1',
      '--data-dir', o.dataDir,
      '--redis', o.redisUrl,
      '--cluster', o.cluster,
      '--lease-seconds', String(o.leaseSeconds),
      '--renew-seconds', String(o.renewSeconds),
      '--partitions', String(o.partitions ?? 3),
      '--min-insync', String(o.minInsync ?? 1),
      ...(o.extra ?? []),
    ];
    this.exitCode = null;
    const limit = o.maxOpenFiles;
    const p = limit === undefined
      ? spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('prlimit', [`--nofile=${limit}:${limit}`, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = p;
    const file = o.logFile ? createWriteStream(o.logFile, { flags: 'a' }) : null;
    file?.on('error', () => {});
    const keep = (d: Buffer) => {
      file?.write(d);
      for (const line of d.toString().split('\n')) if (line) this.output.push(line);
      if (this.output.length > 2000) this.output.splice(0, this.output.length - 2000);
    };
    p.stdout?.on('data', keep);
    p.stderr?.on('data', keep);
    p.on('exit', (code) => (this.exitCode = code));
    p.on('close', () => file?.end());
  }

  signal(sig: NodeJS.Signals): void {
    this.proc?.kill(sig);
  }

  async kill(): Promise<void> {
    await this.stopWith('SIGKILL');
  }

  /** SIGTERM and wait for the exit (SIGKILL after `graceMs`). */
  async stop(graceMs = 5000): Promise<void> {
    await this.stopWith('SIGTERM', graceMs);
  }

  private async stopWith(sig: NodeJS.Signals, graceMs = 5000): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    if (sig !== 'SIGKILL') p.kill('SIGCONT');
    p.kill(sig);
    const t = setTimeout(() => p.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(t);
  }

  tail(n = 40): string {
    return this.output.slice(-n).join('\n');
  }
}
