// `npm start`: the desktop app (electron-vite preview: build, then run Electron). Where no
// Electron binary is installed (ELECTRON_SKIP_BINARY_DOWNLOAD, CI, servers) it says so in one line
// and serves the same UI in the browser instead (`npm run web`).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { root } from './ensure-ui-built.mjs';

function electronBinary() {
  try {
    // The electron package exports the binary's path, and throws when the download was skipped.
    const path = createRequire(import.meta.url)('electron');
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

if (electronBinary()) {
  const bin = join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
  const child = spawn(process.execPath, [bin, 'preview'], { cwd: root, stdio: 'inherit' });
  // Ctrl+C reaches Electron through the terminal's process group; we only wait for it.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  const port = process.env.YAK_WEB_PORT || '5170';
  console.log(`No Electron binary is installed, so YAK serves the same UI in your browser instead: http://127.0.0.1:${port}`);
  await import('./web.mjs');
}
