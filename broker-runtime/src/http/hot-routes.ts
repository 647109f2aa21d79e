import type { IncomingMessage, ServerResponse } from 'node:http';
import { OPEN_GATE } from '../auth/gate.js';
import type { ProduceResult } from '../broker/service.js';
import { FRAME_AUTH_HEADER } from '../replication/frame-auth.js';
import { MAX_DISCARD_BYTES, parseJson, readBody } from './body.js';
import type { Release } from './replica-admission.js';
import { renderConsume, renderEncodedConsume } from './consume-render.js';
import { JSON_CONTENT_TYPE, methodNotAllowed, unsupportedMediaType, writeError, writeJson } from './errors.js';
import type { HttpContext } from './context.js';
import { parseBatch, parseConsume, parseProduce, type ProduceRequest } from './validate.js';

/**
 * The routes every record passes through, served on plain node:http (express costs several times
 * more per request). Returns false for any other path, which the caller hands to the API app.
 */
export type HotRoutes = (req: IncomingMessage, res: ServerResponse) => boolean;

type Handler = (ctx: HttpContext, req: IncomingMessage, res: ServerResponse, query: string) => Promise<void>;

const ROUTES: Record<string, { method: string; handle: Handler }> = {
  '/produce': { method: 'POST', handle: produce },
  '/produce/batch': { method: 'POST', handle: produceBatch },
  '/consume': { method: 'GET', handle: consume },
  // Not behind the client gate: brokers prove themselves to each other by other means (docs/security.md).
  '/replica/append': { method: 'POST', handle: replicaAppend },
};

export function createHotRoutes(ctx: HttpContext): HotRoutes {
  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const route = Object.hasOwn(ROUTES, path) ? ROUTES[path] : undefined;
    if (!route) return false;
    if (req.method !== route.method) {
      writeError(res, methodNotAllowed(req.method ?? '?', path, [route.method]), ctx.log);
      return true;
    }
    route.handle(ctx, req, res, q === -1 ? '' : url.slice(q + 1)).catch((err: unknown) => writeError(res, err, ctx.log));
    return true;
  };
}

async function produce(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { topic, records, compression } = await readProduce(ctx, req, parseProduce);
  const [result] = checkResults(await produceWith(ctx, topic, records, compression), 1);
  // The same text as JSON.stringify({topic, partition, offset}), without the object (a topic name is
  // [A-Za-z0-9._-] only, so it needs no escaping), and headers as a flat list: node checks and
  // copies an object's entries one by one. One answer per record, so this is on every record's path.
  const body = `{"topic":"${topic}","partition":${num(result!.partition)},"offset":${num(result!.offset)}}`;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(200, ['content-type', JSON_CONTENT_TYPE, 'content-length', String(body.length)]);
  res.end(body);
}

async function produceBatch(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { topic, records, compression } = await readProduce(ctx, req, parseBatch);
  const results = checkResults(await produceWith(ctx, topic, records, compression), records.length);
  // Written out by hand: the same text as JSON.stringify of {topic, results} without building up to
  // 10,000 objects first; joined, not concatenated, so the string is flat before it is measured and
  // encoded. A third less CPU for a 1,000-record answer (169 -> 113 µs with encoding).
  const list: string[] = new Array<string>(results.length);
  for (let i = 0; i < results.length; i++) list[i] = `{"partition":${num(results[i]!.partition)},"offset":${num(results[i]!.offset)}}`;
  writeJson(res, 200, `{"topic":${JSON.stringify(topic)},"results":[${list.join(',')}]}`);
}

/** The service's produce, told the producer's codec only when the request named one. */
function produceWith(ctx: HttpContext, topic: string, records: ProduceRequest['records'], compression: ProduceRequest['compression']) {
  return compression === undefined ? ctx.service.produce(topic, records) : ctx.service.produce(topic, records, compression);
}

/**
 * A produce request read, parsed and let through the gate: the token before the body is read,
 * the topic once it is known, so a refused produce never reaches the service (nor creates a topic).
 */
async function readProduce(
  ctx: HttpContext,
  req: IncomingMessage,
  parse: (body: unknown, maxMessageBytes: number) => ProduceRequest,
): Promise<ProduceRequest> {
  const { gate } = ctx;
  // Without --auth-file the gate lets everything through: two awaits fewer on every record's path.
  const open = gate === OPEN_GATE;
  if (!open) await gate.authorize(req, { op: 'produce' });
  const body = await readBody(req, ctx.bodyLimit);
  const request = parse(parseJson(body), ctx.maxMessageBytes);
  if (!open) {
    await gate.authorize(req, { op: 'produce', topic: request.topic });
    gate.charge(req, 'in', body.length);
  }
  return request;
}

async function consume(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, query: string): Promise<void> {
  await ctx.gate.authorize(req, { op: 'consume' });
  const { topic, partition, offset, max, waitMs } = parseConsume(new URLSearchParams(query));
  await ctx.gate.authorize(req, { op: 'consume', topic });
  const { service } = ctx;
  const body = service.consumeEncoded
    ? renderEncodedConsume(await service.consumeEncoded(topic, partition, offset, max, waitMs))
    : renderConsume(await service.consume(topic, partition, offset, max, waitMs));
  writeJson(res, 200, body);
  ctx.gate.charge(req, 'out', Buffer.byteLength(body));
}

async function replicaAppend(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // Exactly octet-stream, never absent: a browser can send a body without a preflight only as
  // text/plain or a form, so this refuses every cross-site "simple" request before it is read.
  const type = req.headers['content-type'];
  if (type === undefined || type.split(';')[0]!.trim().toLowerCase() !== 'application/octet-stream') {
    throw unsupportedMediaType(type ?? '(none)', 'application/octet-stream');
  }
  // Refused before the body is read (no auth, an epoch without a key, too many unauthenticated
  // bodies being read): node then reads and drops the body without buffering it, or the connection
  // closes when the declared body is too large to be worth reading.
  let release: Release;
  try {
    release = await ctx.replicaAdmission.admit(req);
  } catch (err) {
    if (Number(req.headers['content-length'] ?? 0) > MAX_DISCARD_BYTES) res.shouldKeepAlive = false;
    throw err;
  }
  try {
    const frame = await readBody(req, ctx.replicaBodyLimit);
    // The place among unauthenticated bodies is given back as soon as the MAC matched.
    const answer = await ctx.service.replicate(frame, req.headers[FRAME_AUTH_HEADER], release);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': answer.length });
    res.end(answer);
  } finally {
    release();
  }
}

function checkResults(results: ProduceResult[], expected: number): ProduceResult[] {
  if (results.length !== expected) {
    throw new Error(`service.produce answered ${results.length} results for ${expected} records`);
  }
  return results;
}

/** A number as JSON (NaN and Infinity are not JSON). */
function num(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}
