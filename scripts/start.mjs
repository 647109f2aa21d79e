// `npm start`: the desktop app (electron-vite preview: build, then run Electron).
//
// `npm install` does not download Electron's binary (package.json's `allowScripts` turns its
// postinstall off under npm 11.16+, and ELECTRON_SKIP_BINARY_DOWNLOAD=1 does under older npm), so an
// install works offline, behind proxies and on mirrors without it. The binary is fetched here, on
// first use, by Electron's own install script (which honours ELECTRON_MIRROR and the proxy
// settings). Where that fails — no network, CI, servers — one line says so and the same UI is
// served in the browser instead (`npm run web`).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { root } from './ensure-ui-built.mjs';

const require = createRequire(import.meta.url);
const FETCH_TIMEOUT_MS = 300_000;

function electronBinary() {
  try {
    // The electron package exports the binary's path, and throws when the download was skipped.
    const path = require('electron');
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

/** Runs electron's own install.js once; returns why it could not, or null when the binary is there now. */
function fetchElectron() {
  if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) return 'ELECTRON_SKIP_BINARY_DOWNLOAD is set';
  if (process.env.CI) return 'CI is set';
  let installScript;
  try {
    installScript = join(require.resolve('electron/package.json'), '..', 'install.js');
  } catch {
    return 'the electron package is not installed';
  }
  console.log('Fetching the Electron binary (first start only; set ELECTRON_MIRROR to use a mirror)…');
  const res = spawnSync(process.execPath, [installScript], { cwd: root, stdio: ['ignore', 'inherit', 'pipe'], timeout: FETCH_TIMEOUT_MS, encoding: 'utf8' });
  if (electronBinary()) return null;
  const why = (res.stderr || '').trim().split('\n').filter(Boolean).pop();
  return res.error ? res.error.message : why || `electron's install.js exited with ${res.status}`;
}

const why = electronBinary() ? null : fetchElectron();
if (why === null) {
  const bin = join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
  const child = spawn(process.execPath, [bin, 'preview'], { cwd: root, stdio: 'inherit' });
  // Ctrl+C reaches Electron through the terminal's process group; we only wait for it.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  const port = process.env.YAK_WEB_PORT || '5170';
  console.log(`No Electron binary (${why}), so YAK serves the same UI in your browser instead: http://127.0.0.1:${port}`);
  await import('./web.mjs');
}
