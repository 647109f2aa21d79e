import { BrowserWindow, ipcMain } from 'electron';
import type { ClusterEvent, ClusterSnapshot } from '../../shared/cluster-api.js';
import { IPC_EVENT_CHANNEL, IPC_SNAPSHOT_CHANNEL } from '../../shared/web-protocol.js';
import type { ClusterCalls } from '../api/dispatch.js';
import { createIpcHandlers } from './ipc-handlers.js';

export interface PushSource {
  onSnapshot(listener: (s: ClusterSnapshot) => void): () => void;
  onEvent(listener: (e: ClusterEvent) => void): () => void;
}

/** ipcMain.handle for exactly the ClusterApi calls; returns a function that removes them. */
export function registerIpc(api: ClusterCalls, isTrustedUrl: (url: string) => boolean): () => void {
  const table = createIpcHandlers(api, isTrustedUrl);
  for (const [channel, handler] of table) ipcMain.handle(channel, handler);
  return () => {
    for (const channel of table.keys()) ipcMain.removeHandler(channel);
  };
}

/** Pushes snapshots and events to every open window (webContents.send on the shared channels). */
export function pushToWindows(source: PushSource): () => void {
  const send = (channel: string, payload: unknown) => {
    for (const win of BrowserWindow.getAllWindows()) {
      if (!win.isDestroyed() && !win.webContents.isDestroyed()) win.webContents.send(channel, payload);
    }
  };
  const offSnapshot = source.onSnapshot((s) => send(IPC_SNAPSHOT_CHANNEL, s));
  const offEvent = source.onEvent((e) => send(IPC_EVENT_CHANNEL, e));
  return () => {
    offSnapshot();
    offEvent();
  };
}
