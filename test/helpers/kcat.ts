import { spawn } from 'node:child_process';

/** Runs kcat (Debian's, librdkafka) with `args`, feeding `input` on stdin; kills it after `timeoutMs`. */
export function kcat(args: string[], input?: Buffer | string, timeoutMs = 30_000): Promise<{ stdout: Buffer; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const p = spawn('kcat', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ stdout: Buffer.concat(out), stderr: err, code });
    });
    p.stdin.end(input ?? '');
  });
}
