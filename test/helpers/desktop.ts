import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir, type TempDir } from '../../testkit/temp-dir.js';
import { waitFor } from '../../testkit/wait.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A data folder for one desktop supervisor. */
export const tempDataDir = (prefix = 'yak-desktop-'): Promise<TempDir> => tempDir(prefix);

/** Whether a pid names a live process (signal 0 checks without signalling). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function waitPidsGone(pids: number[], timeoutMs = 10_000): Promise<void> {
  await waitFor(`pids ${pids.join(', ')} to be gone`, () => pids.every((p) => !pidAlive(p)), timeoutMs, 100);
}

export interface WebHost {
  url: string;
  child: ChildProcess;
  output: string[];
  call(method: string, args: unknown[] | unknown, init?: RequestInit): Promise<{ status: number; body: any }>;
  /** SIGTERM, then waits for the exit; resolves with its code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `src/main/web.ts` (what `npm run web` runs) on a free port and waits for its URL line.
 * YAK_SKIP_UI_BUILD: the tests need the API, not a fresh UI build.
 */
export async function startWebHost(env: NodeJS.ProcessEnv): Promise<WebHost> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/main/web.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, YAK_WEB_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding('utf8').on('data', (chunk: string) => output.push(...chunk.split('\n').filter(Boolean)));
  }
  const url = await waitFor('the web host to print its URL', () => {
    const line = output.find((l) => l.startsWith('YAK web UI: '));
    return line ? /http:\/\/127\.0\.0\.1:\d+/.exec(line)?.[0] : undefined;
  }, 30_000, 50).catch((err: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${err.message}; output:\n${output.join('\n')}`);
  });
  return {
    url,
    child,
    output,
    async call(method, args, init) {
      const res = await fetch(`${url}/api/call/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ args }),
        ...init,
      });
      return { status: res.status, body: await res.json() };
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
