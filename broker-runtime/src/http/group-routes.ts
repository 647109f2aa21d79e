import type { Request, Response } from 'express';
import type { Principal } from '../auth/principal.js';
import { forbidden } from '../errors/errors.js';
import { YakError } from '../errors/errors.js';
import type { GroupCoordinator } from '../groups/coordinator.js';
import { YAK_PROTOCOL_TYPE, decodeAssignment, encodeSubscription } from '../groups/rest-protocol.js';
import { readJson } from './body.js';
import type { HttpContext } from './context.js';
import { groupName, parseCommit, parseHeartbeat, parseJoin, parseLeave, parseReset } from './group-validate.js';

type Route = (req: Request, res: Response) => void | Promise<void>;

/**
 * The consumer-group routes: YAK's own group API over the coordinator (groups/), in the shape of
 * Kafka's group protocol (join → heartbeat/commit → leave) with the coordinator assigning, rather
 * than Confluent REST Proxy v2's consumer instances — see docs/consumer-groups.md for why.
 */
export function groupRoutes(
  ctx: HttpContext,
  send: (res: Response, status: number, value: unknown) => void,
  principalOf: (req: Request) => Principal | null,
): Record<string, Partial<Record<'GET' | 'POST', Route>>> {
  const coordinator = (): GroupCoordinator => {
    if (!ctx.service.groups) throw YakError.of('NOT_FOUND', 'this broker has no group coordinator');
    return ctx.service.groups;
  };
  const group = (req: Request) => groupName(req.params['group']);
  /** Under --auth-file a member may use only topics its principal may consume. */
  const mayConsume = (req: Request, topics: string[]) => {
    const p = principalOf(req);
    if (!p) return;
    for (const t of topics) if (!p.consume.matches(t)) throw forbidden(`principal '${p.name}' may not consume from topic '${t}'`);
  };
  return {
    '/groups': { GET: (_req, res) => send(res, 200, { groups: coordinator().list() }) },
    '/groups/:group': { GET: (req, res) => send(res, 200, coordinator().describe(group(req))) },
    '/groups/:group/offsets': {
      GET: (req, res) => {
        const name = group(req);
        send(res, 200, { group: name, offsets: coordinator().fetchOffsets(name) });
      },
    },
    '/groups/:group/join': {
      POST: async (req, res) => {
        const name = group(req);
        const j = parseJoin(await readJson(req, ctx.bodyLimit));
        mayConsume(req, j.topics);
        const result = await coordinator().join({
          group: name,
          memberId: j.memberId,
          clientId: j.clientId,
          sessionTimeoutMs: j.sessionTimeoutMs,
          rebalanceTimeoutMs: j.rebalanceTimeoutMs,
          protocolType: YAK_PROTOCOL_TYPE,
          protocols: [{ name: j.strategy, metadata: encodeSubscription(j.topics) }],
        });
        send(res, 200, {
          group: name,
          member_id: result.memberId,
          generation: result.generation,
          strategy: result.protocol,
          partitions: decodeAssignment(result.assignment ?? Buffer.alloc(0)),
          session_timeout_ms: j.sessionTimeoutMs,
          heartbeat_interval_ms: Math.max(50, Math.floor(j.sessionTimeoutMs / 3)),
        });
      },
    },
    '/groups/:group/heartbeat': {
      POST: async (req, res) => {
        const name = group(req);
        const h = parseHeartbeat(await readJson(req, ctx.bodyLimit));
        coordinator().heartbeat(name, h.memberId, h.generation);
        send(res, 200, { group: name, generation: h.generation });
      },
    },
    '/groups/:group/commit': {
      POST: async (req, res) => {
        const name = group(req);
        const c = parseCommit(await readJson(req, ctx.bodyLimit));
        mayConsume(req, [...new Set(c.offsets.map((o) => o.topic))]);
        const offsets = await coordinator().commit({ group: name, ...c });
        send(res, 200, { group: name, offsets });
      },
    },
    '/groups/:group/leave': {
      POST: async (req, res) => {
        const name = group(req);
        const l = parseLeave(await readJson(req, ctx.bodyLimit));
        coordinator().leave(name, l.memberId);
        send(res, 200, { group: name, member_id: l.memberId });
      },
    },
    '/groups/:group/reset': {
      POST: async (req, res) => {
        const name = group(req);
        const r = parseReset(name, await readJson(req, ctx.bodyLimit));
        const offsets = await coordinator().resetOffsets(r);
        send(res, 200, { group: name, dry_run: r.dryRun ?? false, offsets });
      },
    },
  };
}
