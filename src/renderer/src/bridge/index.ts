import type { ClusterApi } from '../../../shared/cluster-api';
import { createHttpApi } from './http';

/**
 * The renderer's single way to the cluster: Electron's preload puts the IPC implementation on
 * `window.yak`; in a plain browser (npm run web) the same interface is spoken over HTTP + SSE.
 */
let api: ClusterApi | null = null;

export function clusterApi(): ClusterApi {
  api ??= window.yak ?? createHttpApi();
  return api;
}

/** Which bridge is in use, shown in the sidebar so a learner knows what they are talking to. */
export function bridgeKind(): 'electron' | 'web' {
  return window.yak ? 'electron' : 'web';
}

export { ApiError, describeError, toApiError } from './errors';
