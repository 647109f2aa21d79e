import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ENTRY = join('broker-runtime', 'bin', 'yak-broker.js');

/**
 * Finds the built broker launcher. `appRoot` is the app's own folder (Electron's app.getAppPath(),
 * which is inside app.asar when packaged); without it we walk up from this file, which works from
 * src/ (tsx), from out/main (the bundle) and from a packaged app alike.
 * Files inside app.asar are readable by Electron's Node mode, but an unpacked copy is preferred
 * when the packager put one next to it (asarUnpack), as spawned tools often need real files.
 */
export function resolveBrokerEntry(appRoot?: string): string {
  const roots = appRoot ? [appRoot] : ancestors(dirname(fileURLToPath(import.meta.url)));
  for (const root of roots) {
    const unpacked = join(root.replace(/app\.asar$/, 'app.asar.unpacked'), ENTRY);
    if (unpacked !== join(root, ENTRY) && existsSync(unpacked)) return unpacked;
    const candidate = join(root, ENTRY);
    if (existsSync(candidate)) return candidate;
  }
  // Not found: return the most likely path, so the broker's failure to start names it.
  return join(roots[0] ?? process.cwd(), ENTRY);
}

function ancestors(start: string): string[] {
  const out: string[] = [];
  let dir = resolve(start);
  for (let i = 0; i < 8; i++) {
    out.push(dir);
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return out;
}
