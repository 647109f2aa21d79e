// Builds the app (electron-vite build: out/main, out/preload, out/renderer) when out/renderer is
// missing or older than the renderer's sources, so `npm run web` on a fresh clone serves the UI.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function newest(dir) {
  let latest = 0;
  if (!existsSync(dir)) return latest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** Returns true when out/renderer is usable afterwards. */
export function ensureUiBuilt() {
  const built = join(root, 'out', 'renderer', 'index.html');
  const sources = Math.max(newest(join(root, 'src', 'renderer')), newest(join(root, 'src', 'shared')));
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return true;
  console.log('[yak] building the UI (electron-vite build)…');
  const bin = join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
  const result = spawnSync(process.execPath, [bin, 'build', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('[yak] the UI build failed; the API still starts, the page will say the UI is not built');
    return existsSync(built);
  }
  return true;
}
