import { BrowserWindow, session, shell } from 'electron';
import { devRendererCsp } from '../csp.js';
import { APP_ORIGIN } from './trusted-origin.js';

export interface WindowOptions {
  preloadPath: string;
  /** electron-vite's dev server (ELECTRON_RENDERER_URL) during `electron-vite dev`, else undefined. */
  devServerUrl: string | undefined;
}

/**
 * The one window, locked down per Electron's security checklist: isolated context, sandboxed
 * renderer, no Node, web security on, no navigation away from our own page, no new windows
 * (links open in the user's browser instead), no permissions granted.
 */
export function createMainWindow(options: WindowOptions): BrowserWindow {
  const start = options.devServerUrl ?? `${APP_ORIGIN}/index.html`;
  const allowedOrigin = options.devServerUrl ? new URL(options.devServerUrl).origin : null;
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  if (options.devServerUrl) {
    // The dev server's responses carry no CSP: add it (production pages get it from protocol.ts).
    const csp = devRendererCsp(options.devServerUrl);
    ses.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
    });
  }

  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    minWidth: 900,
    minHeight: 600,
    title: 'YAK — Yet Another Kafka',
    show: false,
    backgroundColor: '#111827',
    webPreferences: {
      preload: options.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (event, url) => {
    const ours = url.startsWith(`${APP_ORIGIN}/`) || (allowedOrigin !== null && new URL(url).origin === allowedOrigin);
    if (!ours) event.preventDefault();
  });
  win.webContents.on('will-attach-webview', (event) => event.preventDefault());
  void win.loadURL(start);
  return win;
}
