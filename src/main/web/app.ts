import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { CLUSTER_API_CALLS } from '../../shared/cluster-api.js';
import { WEB_CALL_PREFIX, WEB_STREAM_PATH, type CallAnswer, type CallError } from '../../shared/web-protocol.js';
import { dispatchCall, type ClusterCalls } from '../api/dispatch.js';
import { invalidArgument, toCallFailure } from '../api/errors.js';
import { RENDERER_CSP } from '../csp.js';
import { loopbackGuard } from './guard.js';
import { streamHandler, type StreamSource } from './sse.js';

export interface WebAppOptions {
  api: ClusterCalls & StreamSource;
  /** The built renderer (electron-vite's out/renderer). */
  rendererDir: string;
  /** The port actually listened on (known only after listen when 0 was asked for). */
  port: () => number;
}

/** Batches of CSV records arrive in one call; the broker still enforces its own 1 MiB per request. */
const BODY_LIMIT = '16mb';

/**
 * The web host's routes (web-protocol.ts): one POST per ClusterApi call, the SSE stream, and the
 * built renderer. Every answer of /api is JSON, errors included.
 */
export function createWebApp(options: WebAppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(loopbackGuard(options.port));
  app.use((_req, res, next) => {
    res.set({ 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cross-origin-opener-policy': 'same-origin' });
    next();
  });

  const api = express.Router();
  api.use(express.json({ limit: BODY_LIMIT }));
  api.post(`${WEB_CALL_PREFIX.replace(/^\/api/, '')}:method`, async (req: Request, res: Response) => {
    const method = String(req.params['method']);
    const body: unknown = req.body;
    try {
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw invalidArgument('the body must be a JSON object {"args": [...]} sent as application/json');
      }
      const result = await dispatchCall(options.api, method, (body as { args?: unknown }).args ?? []);
      res.json({ result } satisfies CallAnswer);
    } catch (err) {
      const failure = toCallFailure(err);
      res.status(failure.status).json(failure.body satisfies CallError);
    }
  });
  api.get(WEB_STREAM_PATH.replace(/^\/api/, ''), streamHandler(options.api));
  api.use((req: Request, res: Response) => {
    const hint = req.method === 'GET' && req.path.startsWith('/call/') ? '; calls are POST' : '';
    res.status(404).json({ error: 'NOT_FOUND', message: `no API route ${req.method} /api${req.path}${hint} (calls: ${CLUSTER_API_CALLS.length} methods under POST ${WEB_CALL_PREFIX}<method>)` });
  });
  api.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed') res.status(400).json({ error: 'INVALID_JSON', message: `the body is not valid JSON: ${e.message ?? ''}` });
    else if (e.type === 'entity.too.large') res.status(413).json({ error: 'TOO_LARGE', message: `the body is over ${BODY_LIMIT}` });
    else res.status(e.status && e.status >= 400 && e.status < 600 ? e.status : 500).json({ error: 'BAD_REQUEST', message: e.message ?? 'bad request' });
  });
  app.use('/api', api);

  const index = join(options.rendererDir, 'index.html');
  app.use((_req, res, next) => {
    res.set('content-security-policy', RENDERER_CSP);
    next();
  });
  app.use(express.static(options.rendererDir, { index: 'index.html', fallthrough: true }));
  app.get('/', (_req, res) => {
    // Only reached when the renderer has not been built.
    res
      .status(existsSync(index) ? 500 : 503)
      .type('text/plain')
      .send('The YAK UI is not built yet: run `npm run build:app` (or `npm run web`, which builds it), then reload.\nThe API is up at POST /api/call/<method>.\n');
  });
  return app;
}
