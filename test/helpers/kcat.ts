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

/**
 * Feeds `lines` to a running `kcat -P` (one line every 10 ms, as a steady producer would) and calls
 * `midway` once half are written (the tests kill the leader there); resolves with kcat's exit code
 * and stderr once it has delivered or given up on everything.
 */
export async function kcatProduceAcross(args: string[], lines: string[], midway: () => Promise<unknown>): Promise<{ code: number | null; stderr: string }> {
  const p = spawn('kcat', args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => p.on('close', resolve));
  for (let i = 0; i < lines.length; i++) {
    p.stdin.write(`${lines[i]}\n`);
    if (i === Math.floor(lines.length / 2)) await midway();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  p.stdin.end();
  return { code: await exited, stderr };
}
