// A stand-in for the `electron` module (whose binary is not installed here): records what the
// host code asks of it, so tests can check window options, IPC channels and the protocol handler.
export const calls = {
  windows: [], ipc: new Map(), schemes: [], protocolHandlers: new Map(), headerHooks: [], permissionHandlers: [], sent: [],
  exposed: new Map(), rendererListeners: new Map(), invoke: async () => ({ result: null }),
};
globalThis.__fakeElectron = calls;

class WebContents {
  constructor() {
    this.listeners = new Map();
    this.openHandler = null;
    this.loaded = null;
  }
  setWindowOpenHandler(fn) { this.openHandler = fn; }
  on(event, fn) { this.listeners.set(event, fn); return this; }
  isDestroyed() { return false; }
  send(channel, payload) { calls.sent.push({ channel, payload }); }
}

export class BrowserWindow {
  static all = [];
  constructor(options) {
    this.options = options;
    this.webContents = new WebContents();
    BrowserWindow.all.push(this);
    calls.windows.push(this);
  }
  static getAllWindows() { return BrowserWindow.all; }
  once() {}
  isDestroyed() { return false; }
  loadURL(url) { this.webContents.loaded = url; return Promise.resolve(); }
}

export const ipcMain = {
  handle(channel, fn) { calls.ipc.set(channel, fn); },
  removeHandler(channel) { calls.ipc.delete(channel); },
};
export const protocol = {
  registerSchemesAsPrivileged(schemes) { calls.schemes.push(...schemes); },
  handle(scheme, fn) { calls.protocolHandlers.set(scheme, fn); },
};
export const session = {
  defaultSession: {
    setPermissionRequestHandler(fn) { calls.permissionHandlers.push(fn); },
    webRequest: { onHeadersReceived(fn) { calls.headerHooks.push(fn); } },
  },
};
export const contextBridge = {
  exposeInMainWorld(name, api) { calls.exposed.set(name, api); },
};
export const ipcRenderer = {
  invoke(channel, ...args) { return calls.invoke(channel, ...args); },
  on(channel, fn) { (calls.rendererListeners.get(channel) ?? calls.rendererListeners.set(channel, new Set()).get(channel)).add(fn); },
  removeListener(channel, fn) { calls.rendererListeners.get(channel)?.delete(fn); },
};
export const shell = { openExternal: async () => undefined };
export const dialog = { showErrorBox: () => undefined };
export const app = { isPackaged: false };
export default { BrowserWindow, ipcMain, protocol, session, shell, dialog, app, contextBridge, ipcRenderer };
