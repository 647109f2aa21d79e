import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const YAK_BIN = fileURLToPath(new URL('../../broker-runtime/bin/yak.js', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** A `yak` process (the built CLI) run to its end; spawn, not spawnSync, so the test's brokers keep being read. */
export function yak(args: string[], o: CliOptions = {}): Promise<CliResult> {
  return finished(startYak(args, o), o.timeoutMs ?? 20_000);
}

/** A `yak` process left running (consume --follow); `finished` collects it. */
export function startYak(args: string[], o: CliOptions = {}): RunningYak {
  const env: NodeJS.ProcessEnv = { ...process.env, ...o.env };
  // The caller's own shell settings must not leak into what a test asserts.
  for (const name of ['YAK_BROKERS', 'YAK_TOKEN', 'YAK_CA', 'YAK_TLS_CERT', 'YAK_TLS_KEY']) if (!o.env || !(name in o.env)) delete env[name];
  const child = spawn(process.execPath, [YAK_BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out.stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out.stderr += d));
  child.stdin.end(o.input ?? '');
  // Listened for at once: the process may end before the test asks for its result.
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  return Object.assign(child, { out, closed });
}

export type RunningYak = ChildProcess & { out: { stdout: string; stderr: string }; closed: Promise<number | null> };

export function finished(child: RunningYak, timeoutMs: number): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`yak ${child.spawnargs.slice(2).join(' ')} did not finish within ${timeoutMs} ms; stderr: ${child.out.stderr}`));
    }, timeoutMs);
    void child.closed.then((status) => {
      clearTimeout(timer);
      resolve({ status, ...child.out });
    });
  });
}
