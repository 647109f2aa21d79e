import { spawn, type ChildProcess } from 'node:child_process';
import type { ProcessInfo, ProcessKind, ProcessState } from '../../../shared/cluster-api.js';
import { OutputBuffer } from './output-buffer.js';

export interface ProcessSpec {
  name: string;
  kind: ProcessKind;
  command: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  port: number | null;
}

export interface ExitInfo {
  name: string;
  kind: ProcessKind;
  pid: number | null;
  code: number | null;
  signal: string | null;
  /** True when the supervisor asked for it (stop, kill, restart, quit). */
  expected: boolean;
  state: ProcessState;
  /** Set when the process could not be spawned at all (ENOENT, EACCES). */
  error: string | null;
}

export interface ProcessHooks {
  onStarted(info: ProcessInfo): void;
  onExit(exit: ExitInfo): void;
}

/** How long a SIGTERM gets before SIGKILL. */
export const STOP_GRACE_MS = 3000;

/**
 * One supervised child: spawn, signals, the last lines of its output, and an exit that is always
 * reported. The spec can be replaced between runs (a new port or flags take effect on restart).
 */
export class ManagedProcess {
  private child: ChildProcess | null = null;
  private state: ProcessState = 'stopped';
  private exitCode: number | null = null;
  private signal: string | null = null;
  private startedAt: number | null = null;
  private restarts = 0;
  private everStarted = false;
  /** What the exit we asked for should be called: 'stopped' after SIGTERM, 'exited' after SIGKILL. */
  private requested: 'stopped' | 'exited' | null = null;
  private exited: Promise<void> = Promise.resolve();
  readonly output = new OutputBuffer(500);

  constructor(
    public spec: ProcessSpec,
    private readonly hooks: ProcessHooks,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Alive as far as signals go: spawned and not yet exited (running, paused or stopping). */
  get alive(): boolean {
    return this.child !== null;
  }

  get currentState(): ProcessState {
    return this.state;
  }

  info(): ProcessInfo {
    return {
      name: this.spec.name,
      kind: this.spec.kind,
      pid: this.pid,
      state: this.state,
      port: this.spec.port,
      exitCode: this.exitCode,
      signal: this.signal,
      startedAt: this.startedAt,
      restarts: this.restarts,
    };
  }

  start(): void {
    if (this.child) return;
    if (this.everStarted) this.restarts++;
    this.everStarted = true;
    this.state = 'starting';
    this.exitCode = null;
    this.signal = null;
    this.requested = null;
    this.startedAt = Date.now();
    this.output.note(`starting: ${[this.spec.command, ...this.spec.args].join(' ')}`);
    const child = spawn(this.spec.command, [...this.spec.args], {
      env: this.spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    this.child = child;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.output.write(chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.output.write(chunk));
    this.exited = new Promise<void>((resolve) => {
      let done = false;
      const finish = (code: number | null, signal: string | null, failure?: Error) => {
        if (done) return;
        done = true;
        this.onExit(child, code, signal, failure);
        resolve();
      };
      // 'close' waits for the pipes too, so the last lines are in the buffer before the exit event.
      child.once('close', (code, signal) => finish(code, signal));
      child.once('error', (err) => {
        // 'error' without a pid: the spawn itself failed (ENOENT, EACCES); no 'close' follows.
        if (child.pid === undefined) finish(null, null, err);
      });
    });
    child.once('spawn', () => {
      if (this.child === child && this.state === 'starting') this.hooks.onStarted(this.info());
    });
  }

  /** Called by the supervisor once the process answers (Redis PING, broker /health). */
  markReady(): void {
    if (this.child && this.state === 'starting') this.state = 'running';
  }

  pause(): void {
    if (!this.child || this.state === 'paused') return;
    this.child.kill('SIGSTOP');
    this.state = 'paused';
  }

  resume(): void {
    if (!this.child || this.state !== 'paused') return;
    this.child.kill('SIGCONT');
    this.state = 'running';
  }

  /** SIGTERM, then SIGKILL after the grace period; resolves once the process is gone. */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.requested ??= 'stopped';
    this.state = 'stopping';
    child.kill('SIGTERM');
    // A stopped (SIGSTOP) process only acts on SIGTERM once continued.
    child.kill('SIGCONT');
    const timer = setTimeout(() => {
      if (this.child === child) child.kill('SIGKILL');
    }, graceMs);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL now; resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.requested = 'exited';
    child.kill('SIGKILL');
    await this.exited;
  }

  /** Last resort on quit: no waiting, no events needed, just no orphans. */
  killNow(): void {
    if (this.child) {
      this.requested = 'exited';
      this.child.kill('SIGKILL');
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: string | null, failure?: Error): void {
    if (this.child !== child) return;
    const expected = this.requested !== null;
    this.child = null;
    this.exitCode = code;
    this.signal = signal;
    this.state = this.requested ?? (failure || signal || (code ?? 0) !== 0 ? 'crashed' : 'exited');
    this.requested = null;
    this.output.note(failure ? `could not start: ${failure.message}` : `exited (${describeExit(code, signal)})`);
    this.hooks.onExit({
      name: this.spec.name,
      kind: this.spec.kind,
      pid: child.pid ?? null,
      code,
      signal,
      expected,
      state: this.state,
      error: failure ? failure.message : null,
    });
  }
}

export function describeExit(code: number | null, signal: string | null): string {
  if (signal) return `signal ${signal}`;
  return `code ${code ?? 'unknown'}`;
}
