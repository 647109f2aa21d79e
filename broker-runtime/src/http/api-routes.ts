import express, { type NextFunction, type Request, type Response } from 'express';
import type { Action } from '../auth/gate.js';
import { maySee, type Principal } from '../auth/principal.js';
import { invalidRequest } from '../errors/errors.js';
import { readJson } from './body.js';
import { methodNotAllowed, notFound, writeError, writeJson } from './errors.js';
import type { HealthView, ReadyView } from '../broker/service.js';
import type { HttpContext } from './context.js';
import { parseConfigChange, parseCreateTopic, topicName } from './validate.js';
import { unknownTopic } from '../errors/errors.js';
import { groupRoutes } from './group-routes.js';

/**
 * Everything that is not a hot path: topics, metadata, health, metrics, and the JSON 404/405
 * answers. Requests reach it only after the hot routes have declined them.
 */

type Route = (req: Request, res: Response) => void | Promise<void>;

const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function createApiApp(ctx: HttpContext): express.Express {
  const { service } = ctx;
  const send = (res: Response, status: number, value: unknown) => writeJson(res, status, JSON.stringify(value));

  const routes: Record<string, Partial<Record<'GET' | 'POST', Route>>> = {
    '/topics': {
      GET: (req, res) => {
        // Like Kafka's Metadata under ACLs: a principal sees only the topics it may use.
        const principal = principalOf(req);
        // The group coordinator's own topic is left out unless asked for, as Kafka's tools do.
        const all = service.topics();
        const topics = req.query['internal'] === 'true' ? all : all.filter((t) => !t.internal);
        send(res, 200, { topics: principal ? topics.filter((t) => maySee(principal, t.name)) : topics });
      },
      POST: async (req, res) => {
        const { name, partitions, config } = parseCreateTopic(await readJson(req, ctx.bodyLimit));
        await service.createTopic(name, partitions, config);
        send(res, 201, { name, partitions, config: service.topicConfig(name).config });
      },
    },
    '/topics/:name/config': {
      GET: (req, res) => {
        const name = visibleTopic(req);
        send(res, 200, service.topicConfig(name));
      },
      POST: async (req, res) => {
        const name = visibleTopic(req);
        const change = parseConfigChange(await readJson(req, ctx.bodyLimit));
        send(res, 200, await service.setTopicConfig(name, change));
      },
    },
    '/metadata/leader': { GET: (_req, res) => send(res, 200, service.leader()) },
    '/metadata/cluster': { GET: async (_req, res) => send(res, 200, await service.cluster()) },
    '/health': { GET: (_req, res) => send(res, 200, service.health()) },
    '/ready': {
      GET: (_req, res) => {
        const view = service.ready ? service.ready() : readyFromHealth(service.health());
        send(res, view.ready ? 200 : 503, view);
      },
    },
    '/metrics': { GET: (req, res) => metrics(ctx, req, res) },
    ...groupRoutes(ctx, send, principalOf),
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Before any route, so that without a token even a 404 says 401 and nothing about the paths.
  app.use(async (req, _res, next) => {
    const action = apiAction(req.method, req.path);
    if (action) principals.set(req, await ctx.gate.authorize(req, action));
    next();
  });
  for (const [path, methods] of Object.entries(routes)) {
    const allow = Object.keys(methods);
    const route = app.route(path);
    if (methods.GET) route.get(methods.GET);
    if (methods.POST) route.post(methods.POST);
    route.all((req) => {
      throw methodNotAllowed(req.method, req.path, allow);
    });
  }
  app.use((req) => {
    throw notFound(req.method, req.path);
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => writeError(res, err, ctx.log));
  return app;
}

const principals = new WeakMap<Request, Principal | null>();

/** The topic named in the path; a topic the principal may not use is as unknown as in GET /topics. */
function visibleTopic(req: Request): string {
  const name = topicName(req.params['name'], 'topic');
  const principal = principalOf(req);
  if (principal && !maySee(principal, name)) throw unknownTopic(name);
  return name;
}

function principalOf(req: Request): Principal | null {
  return principals.get(req) ?? null;
}

/** For a service without ready(): ready exactly when healthy. */
function readyFromHealth(health: HealthView): ReadyView {
  return { ...health, ready: health.status === 'ok', reasons: health.status === 'ok' ? [] : [`status ${health.status}`] };
}

/**
 * What each API call needs (docs/security.md): /health and /ready are open for liveness and
 * readiness probes (they tell no more than that the broker is up, its role and its condition); creating a topic needs admin; everything else
 * (metadata for leader discovery, the topic list, metrics) any principal, as Kafka's Metadata does.
 */
function apiAction(method: string, path: string): Action | undefined {
  // Express routes ignore case and a trailing slash: so must this, or POST /Topics/ would pass as a read.
  const route = path.toLowerCase().replace(/\/+$/, '');
  if (route === '/health' || route === '/ready') return undefined;
  if (route === '/topics' && method !== 'GET' && method !== 'HEAD') return { op: 'admin' };
  // Changing a topic's config (retention) is an admin's call, as creating it is.
  if (/^\/topics\/[^/]+\/config$/.test(route) && method !== 'GET' && method !== 'HEAD') return { op: 'admin' };
  // Groups: moving a group's offsets is an admin's call; joining and committing need consume
  // permission (per topic, checked by the route once the body names them).
  if (/^\/groups\/[^/]+\/reset$/.test(route)) return { op: 'admin' };
  if (route.startsWith('/groups/') && method !== 'GET' && method !== 'HEAD') return { op: 'consume' };
  return { op: 'describe' };
}

function metrics(ctx: HttpContext, req: Request, res: Response): void {
  const format = req.query['format'];
  if (format === undefined || format === 'json') {
    writeJson(res, 200, JSON.stringify(ctx.service.metrics()));
    return;
  }
  if (format !== 'prometheus') throw invalidRequest("format must be 'json' or 'prometheus'");
  const text = ctx.service.prometheus ? ctx.service.prometheus() : renderFlat(ctx.service.metrics());
  res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Fallback exposition for a service without prometheus(): every finite number as an untyped sample. */
function renderFlat(values: Record<string, unknown>): string {
  let out = '';
  for (const [name, value] of Object.entries(values)) {
    const n = typeof value === 'boolean' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isFinite(n)) continue;
    out += `yak_${name.replace(/[^A-Za-z0-9_]/g, '_')} ${n}\n`;
  }
  return out;
}
