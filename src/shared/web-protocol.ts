/**
 * How the web host carries the ClusterApi over HTTP (the IPC bridge carries the same calls over
 * Electron's ipcRenderer.invoke on channel `yak:<method>`).
 *
 * - Call:   POST /api/call/<method>   body {"args": [...]}   ->  200 {"result": <value>}
 *           a refused call            ->  4xx/5xx {"error": "<CODE>", "message": "..."}
 * - Stream: GET  /api/stream  (text/event-stream); events named `snapshot` (ClusterSnapshot JSON)
 *           and `cluster-event` (ClusterEvent JSON).
 */
export const WEB_CALL_PREFIX = '/api/call/';
export const WEB_STREAM_PATH = '/api/stream';
export const IPC_CHANNEL_PREFIX = 'yak:';
export const IPC_SNAPSHOT_CHANNEL = 'yak:snapshot';
export const IPC_EVENT_CHANNEL = 'yak:event';
export const SSE_SNAPSHOT_EVENT = 'snapshot';
export const SSE_CLUSTER_EVENT = 'cluster-event';

export interface CallBody {
  args: unknown[];
}

export interface CallAnswer<T = unknown> {
  result: T;
}

export interface CallError {
  error: string;
  message: string;
}
