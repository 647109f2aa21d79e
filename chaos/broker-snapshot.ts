import { cp, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/**
 * A private copy of the built broker for one run. Brokers are restarted hundreds of times in a
 * soak, and other people rebuild broker-runtime/dist meanwhile: a restart that loads a half-written
 * dist is a crash of the build, not of the broker. Returns the entry to start.
 */
export async function snapshotBroker(runDir: string): Promise<string> {
  const root = join(runDir, 'broker');
  await mkdir(join(root, 'bin'), { recursive: true });
  await cp(join(REPO, 'broker-runtime', 'dist'), join(root, 'dist'), { recursive: true });
  await cp(join(REPO, 'broker-runtime', 'bin', 'yak-broker.js'), join(root, 'bin', 'yak-broker.js'));
  // ESM needs "type": "module" next to the files, and the dependencies must resolve from there.
  await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'yak-broker-snapshot', private: true, type: 'module' }) + '\n');
  await symlink(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');
  return join(root, 'bin', 'yak-broker.js');
}
