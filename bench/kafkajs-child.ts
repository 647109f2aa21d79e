import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { cpuMeter } from './cpu.js';
import type { ConnectionSecurity } from './http-conn.js';
import type { KafkajsRound } from './kafkajs-producer.js';

const MAIN = fileURLToPath(new URL('./kafkajs-child-main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

export type ChildCommand =
  | { type: 'connect'; bootstrap: string[]; security: { token?: string; ca?: string }; topic: string; partitions: number; batch: number; noDelay: boolean }
  | { type: 'round'; ms: number; senders: number; perSend: number }
  | { type: 'close' };
export type ChildReply = { type: 'ready' } | { type: 'round'; rate: number; records: number; clientCpuUs: number } | { type: 'closed' } | { type: 'error'; message: string };

/**
 * KafkaJS producing from a child process (bench/kafkajs-child-main.ts) rather than the bench's own:
 * the same rounds as KafkajsProducer, its CPU measured in the child, the brokers' here.
 */
export class KafkajsChild {
  private constructor(private readonly proc: ChildProcess) {}

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** `profileDir`: the child runs under `--cpu-prof` and writes its profile there on close. */
  static async connect(bootstrap: string[], security: ConnectionSecurity, topic: string, partitions: number, batch: number, noDelay = false, profileDir?: string): Promise<KafkajsChild> {
    const execArgv = ['--import', 'tsx', ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [])];
    const proc = fork(MAIN, [], { cwd: ROOT, execArgv, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const child = new KafkajsChild(proc);
    const sec = { ...(security.token ? { token: security.token } : {}), ...(security.ca ? { ca: security.ca.toString() } : {}) };
    await child.ask({ type: 'connect', bootstrap, security: sec, topic, partitions, batch, noDelay });
    return child;
  }

  async round(ms: number, pids: (number | undefined)[], senders: number, perSend: number): Promise<KafkajsRound> {
    const cpu = cpuMeter(pids);
    const r = await this.ask({ type: 'round', ms, senders, perSend });
    const cpuMs = cpu();
    if (r.type !== 'round') throw new Error(`the KafkaJS child answered ${r.type}`);
    return { rate: r.rate, records: r.records, brokerCpuUs: cpuMs === null ? null : (cpuMs * 1000) / r.records, clientCpuUs: r.clientCpuUs };
  }

  async close(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = once(this.proc, 'exit');
    await this.ask({ type: 'close' }).catch(() => this.proc.kill('SIGTERM'));
    await exited;
  }

  private ask(m: ChildCommand): Promise<ChildReply> {
    return new Promise((resolve, reject) => {
      const onMessage = (r: ChildReply) => {
        cleanup();
        if (r.type === 'error') reject(new Error(`KafkaJS child: ${r.message}`));
        else resolve(r);
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`the KafkaJS child exited (${code})`));
      };
      const cleanup = () => {
        this.proc.off('message', onMessage);
        this.proc.off('exit', onExit);
      };
      this.proc.on('message', onMessage);
      this.proc.on('exit', onExit);
      this.proc.send(m);
    });
  }
}
