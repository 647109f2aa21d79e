/**
 * The Electron main process: one window, the cluster supervisor behind IPC, and a quit that
 * leaves no child process behind (before-quit waits for the supervisor's graceful stop).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog } from 'electron';
import { pushToWindows, registerIpc } from './host/ipc.js';
import { registerAppScheme, serveRenderer } from './host/protocol.js';
import { trustedUrlCheck } from './host/trusted-origin.js';
import { createMainWindow } from './host/window.js';
import { installShutdownHooks, resolveBrokerEntry, Supervisor } from './supervisor/index.js';

const here = fileURLToPath(new URL('.', import.meta.url)); // out/main/
const devServerUrl = !app.isPackaged ? process.env['ELECTRON_RENDERER_URL'] : undefined;

registerAppScheme();

if (!app.requestSingleInstanceLock()) {
  // A second instance would start a second cluster on the same data folder.
  app.quit();
} else {
  void run();
}

async function run(): Promise<void> {
  await app.whenReady();
  const supervisor = await Supervisor.create({
    dataDir: join(app.getPath('userData'), 'cluster'),
    brokerEntry: resolveBrokerEntry(app.getAppPath()),
    execPath: process.execPath,
    log: (line) => console.log(line),
  });

  let quitting = false;
  let stopped = false;
  const hooks = installShutdownHooks(
    { shutdown: () => supervisor.shutdown(), killAllNow: () => supervisor.killAllNow() },
    (code) => app.exit(code),
  );
  app.on('before-quit', (event) => {
    if (stopped) return;
    event.preventDefault();
    if (quitting) return;
    quitting = true;
    void hooks.quit().finally(() => {
      stopped = true;
      app.quit();
    });
  });
  // The cluster lives as long as its window, on every platform: no hidden cluster keeps running.
  app.on('window-all-closed', () => app.quit());
  app.on('second-instance', () => {
    const win = BrowserWindow.getAllWindows()[0];
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });

  serveRenderer(join(here, '..', 'renderer'));
  registerIpc(supervisor, trustedUrlCheck(devServerUrl));
  pushToWindows(supervisor);
  createMainWindow({ preloadPath: join(here, '..', 'preload', 'index.cjs'), devServerUrl });
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createMainWindow({ preloadPath: join(here, '..', 'preload', 'index.cjs'), devServerUrl });
  });

  supervisor.startCluster().catch((err: unknown) => {
    const text = err instanceof Error ? err.message : String(err);
    console.error(`[yak] the cluster did not start: ${text}`);
    dialog.showErrorBox('YAK: the cluster did not start', text);
  });
}
