import type { Request, Response } from 'express';
import type { ClusterEvent, ClusterSnapshot } from '../../shared/cluster-api.js';
import { SSE_CLUSTER_EVENT, SSE_SNAPSHOT_EVENT } from '../../shared/web-protocol.js';

export interface StreamSource {
  getSnapshot(): Promise<ClusterSnapshot>;
  onSnapshot(listener: (s: ClusterSnapshot) => void): () => void;
  onEvent(listener: (e: ClusterEvent) => void): () => void;
}

const HEARTBEAT_MS = 15_000;

/**
 * GET /api/stream: snapshots and cluster events as Server-Sent Events. The current snapshot is
 * sent at once, so a page that connects late draws the cluster without waiting for a poll.
 * A client that reads too slowly skips snapshots (the next one supersedes them) but never events.
 */
export function streamHandler(source: StreamSource) {
  return async (_req: Request, res: Response): Promise<void> => {
    res.status(200).set({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    let backlogged = false;
    const send = (event: string, data: unknown, droppable: boolean) => {
      if (droppable && backlogged) return;
      const ok = res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      if (!ok) {
        backlogged = true;
        res.once('drain', () => (backlogged = false));
      }
    };
    res.write('retry: 1000\n\n');
    send(SSE_SNAPSHOT_EVENT, await source.getSnapshot(), false);
    const offSnapshot = source.onSnapshot((s) => send(SSE_SNAPSHOT_EVENT, s, true));
    const offEvent = source.onEvent((e) => send(SSE_CLUSTER_EVENT, e, false));
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    // The response's 'close' is the connection going away ('close' on req fires once the
    // request has been read, which for a GET is at once).
    res.on('close', () => {
      clearInterval(heartbeat);
      offSnapshot();
      offEvent();
    });
  };
}
