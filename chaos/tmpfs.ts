import { execFile, execFileSync } from 'node:child_process';
import { cp, mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A small tmpfs per broker, so the disk-full faults can fill one broker's disk and nothing else
 * (mount(8) needs root). The broker's data folder is `<mountpoint>/data`; the ballast that fills
 * the disk is `<mountpoint>/ballast`, beside it, so the broker never sees it as one of its files.
 */
export interface Tmpfs {
  mountpoint: string;
  dataDir: string;
  ballast: string;
}

/** Mountpoints of this process, unmounted if it is interrupted (a mount outlives the process otherwise). */
const active = new Set<string>();
let guarded = false;

function guardSignals(): void {
  if (guarded) return;
  guarded = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const m of active) {
        try {
          execFileSync('umount', ['-l', m], { stdio: 'ignore' });
        } catch {
          /* already gone */
        }
      }
      process.exit(130);
    });
  }
}

/** Mount a tmpfs of `mb` MiB at `mountpoint`; the reason it cannot be mounted as an Error. */
export async function mountTmpfs(mountpoint: string, mb: number): Promise<Tmpfs> {
  if (process.getuid?.() !== 0) throw new Error('not root (mount -t tmpfs needs root)');
  await mkdir(mountpoint, { recursive: true });
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${mb}m`, 'tmpfs', mountpoint]);
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? (err as Error).message).trim().split('\n')[0];
    throw new Error(`mount -t tmpfs failed: ${stderr}`);
  }
  active.add(mountpoint);
  guardSignals();
  const dataDir = join(mountpoint, 'data');
  await mkdir(dataDir, { recursive: true });
  return { mountpoint, dataDir, ballast: join(mountpoint, 'ballast') };
}

/**
 * Fill the file system holding `path` with one file, down to the last byte it takes; returns the
 * bytes written. Asynchronous writes in chunks, so the harness's proxies keep forwarding meanwhile.
 */
export async function fillWithBallast(path: string): Promise<number> {
  const fh = await open(path, 'w');
  let pos = 0;
  try {
    for (const size of [1 << 20, 4096, 1]) {
      const buf = Buffer.alloc(size, 0x55);
      for (;;) {
        try {
          const { bytesWritten } = await fh.write(buf, 0, size, pos);
          if (bytesWritten === 0) break;
          pos += bytesWritten;
        } catch {
          break;
        }
      }
    }
  } finally {
    await fh.close().catch(() => {});
  }
  return pos;
}

/**
 * Unmount, keeping what the broker wrote: the data folder is copied out first and put back in the
 * (now plain) mountpoint, so a failed run leaves its data like any other run. The ballast is dropped.
 */
export async function unmountKeepingData(t: Tmpfs): Promise<void> {
  await rm(t.ballast, { force: true });
  const saved = `${t.mountpoint}.saved`;
  await cp(t.dataDir, saved, { recursive: true }).catch(() => {});
  await unmount(t.mountpoint);
  await rm(t.dataDir, { recursive: true, force: true });
  await rename(saved, t.dataDir).catch(() => {});
}

export async function unmount(mountpoint: string): Promise<void> {
  await run('umount', ['-l', mountpoint]).catch(() => {});
  active.delete(mountpoint);
}
