/**
 * The only bridge between the sandboxed renderer and the main process: window.yak, exactly the
 * ClusterApi. Calls go over ipcRenderer.invoke('yak:<method>'); the main process answers an
 * envelope ({result} or {error, message}) that is turned back into a value or an Error here.
 * Sandboxed preloads cannot load files, so this builds to one self-contained CommonJS file.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { CLUSTER_API_CALLS, type ClusterApi, type ClusterEvent, type ClusterSnapshot } from '../shared/cluster-api.js';
import { IPC_CHANNEL_PREFIX, IPC_EVENT_CHANNEL, IPC_SNAPSHOT_CHANNEL } from '../shared/web-protocol.js';

type Answer = { result: unknown } | { error: string; message: string };

async function call(method: string, args: unknown[]): Promise<unknown> {
  const answer = (await ipcRenderer.invoke(`${IPC_CHANNEL_PREFIX}${method}`, ...args)) as Answer;
  if ('error' in answer) {
    const err = new Error(answer.message);
    err.name = answer.error;
    throw err;
  }
  return answer.result;
}

function subscribe<T>(channel: string, listener: (value: T) => void): () => void {
  // The IPC event object is not handed to the page: it would expose the sender.
  const handler = (_event: IpcRendererEvent, value: T) => listener(value);
  ipcRenderer.on(channel, handler);
  return () => {
    ipcRenderer.removeListener(channel, handler);
  };
}

const calls = Object.fromEntries(CLUSTER_API_CALLS.map((method) => [method, (...args: unknown[]) => call(method, args)]));

const api = {
  ...calls,
  onSnapshot: (listener: (s: ClusterSnapshot) => void) => subscribe(IPC_SNAPSHOT_CHANNEL, listener),
  onEvent: (listener: (e: ClusterEvent) => void) => subscribe(IPC_EVENT_CHANNEL, listener),
} as unknown as ClusterApi;

contextBridge.exposeInMainWorld('yak', api);
