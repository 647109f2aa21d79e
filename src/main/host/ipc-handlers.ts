import { CLUSTER_API_CALLS } from '../../shared/cluster-api.js';
import { IPC_CHANNEL_PREFIX, type CallAnswer, type CallError } from '../../shared/web-protocol.js';
import { dispatchCall, type ClusterCalls } from '../api/dispatch.js';
import { ApiError, toCallFailure } from '../api/errors.js';

/**
 * The IPC side of the ClusterApi as a plain table, channel -> handler, with no Electron import,
 * so the very functions ipcMain.handle registers can be called in a test with a fake event.
 *
 * Handlers answer the same envelope as the web host ({result} or {error, message}) instead of
 * throwing: Electron would wrap a thrown error's message in "Error invoking remote method ...";
 * the preload turns the envelope back into a resolved value or a clean Error.
 */

/** The part of Electron's IpcMainInvokeEvent we read. */
export interface InvokeEvent {
  readonly senderFrame: { readonly url: string } | null;
}

export type IpcAnswer = CallAnswer | CallError;
export type IpcHandler = (event: InvokeEvent, ...args: unknown[]) => Promise<IpcAnswer>;

export function ipcChannel(method: string): string {
  return `${IPC_CHANNEL_PREFIX}${method}`;
}

export function createIpcHandlers(api: ClusterCalls, isTrustedUrl: (url: string) => boolean): Map<string, IpcHandler> {
  const table = new Map<string, IpcHandler>();
  for (const method of CLUSTER_API_CALLS) {
    table.set(ipcChannel(method), async (event, ...args) => {
      try {
        // The renderer is untrusted; a frame we did not load (or one already gone) gets nothing.
        const url = event.senderFrame?.url ?? '';
        if (!isTrustedUrl(url)) throw new ApiError('FORBIDDEN', `IPC from '${url.slice(0, 80) || 'an unknown frame'}' is refused`);
        return { result: await dispatchCall(api, method, args) };
      } catch (err) {
        return toCallFailure(err).body;
      }
    });
  }
  return table;
}
