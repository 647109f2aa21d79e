import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ReproServerOptions {
  cert: string;
  key: string;
  /** 'handler': answer GET /big at once; 'timer': from a timer, then stay busy busyMs. */
  answer: 'handler' | 'timer';
  busyMs: number;
  bytes: number;
  /** Apply keepPausedTlsConnectionsPaused (broker-runtime/src/http/tls-pause.ts). */
  fix: boolean;
}

export interface ReproServer {
  port: number;
  pid: number;
  /** The codes of every clientError the server saw so far (HPE_PAUSED …). */
  errors(): string[];
  stop(): void;
}

/** server.mts in its own node process; resolves once it listens. */
export function startReproServer(options: ReproServerOptions): Promise<ReproServer> {
  const script = fileURLToPath(new URL('./server.mts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`repro server exited with ${code}`)));
    const errors: string[] = [];
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
      let nl;
      while ((nl = out.indexOf('\n')) !== -1) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (line.startsWith('clientError ')) errors.push(line.slice('clientError '.length));
        else resolve({ port: Number(line), pid: child.pid!, errors: () => [...errors], stop: () => child.kill() });
      }
    });
  });
}
