import type { Request, Response } from 'express';
import { mayUseGroup, type Principal } from '../auth/principal.js';
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
  /** The group named in the path, once the principal may use it (its `groups` patterns, when it has them). */
  const group = (req: Request) => {
    const name = groupName(req.params['group']);
    const p = principalOf(req);
    if (p && !mayUseGroup(p, name)) throw forbidden(`principal '${p.name}' may not use group '${name}' (its groups patterns do not match)`);
    return name;
  };
  /** Under --auth-file a member belongs to the principal that joined it (member ids are listed to everyone). */
  const owner = (req: Request): { principal?: string } => {
    const p = principalOf(req);
    return p ? { principal: p.name } : {};
  };
  /** Under --auth-file a member may use only topics its principal may consume. */
  const mayConsume = (req: Request, topics: string[]) => {
    const p = principalOf(req);
    if (!p) return;
    for (const t of topics) if (!p.consume.matches(t)) throw forbidden(`principal '${p.name}' may not consume from topic '${t}'`);
  };
  return {
    '/groups': {
      GET: (req, res) => {
        const p = principalOf(req);
        send(res, 200, { groups: coordinator().list().filter((g) => !p || mayUseGroup(p, g.group)) });
      },
    },
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
          ...owner(req),
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
        coordinator().heartbeat(name, h.memberId, h.generation, owner(req).principal);
        send(res, 200, { group: name, generation: h.generation });
      },
    },
    '/groups/:group/commit': {
      POST: async (req, res) => {
        const name = group(req);
        const c = parseCommit(await readJson(req, ctx.bodyLimit));
        mayConsume(req, [...new Set(c.offsets.map((offset) => offset.topic))]);
        const offsets = await coordinator().commit({ group: name, ...c, ...owner(req) });
        send(res, 200, { group: name, offsets });
      },
    },
    '/groups/:group/leave': {
      POST: async (req, res) => {
        const name = group(req);
        const l = parseLeave(await readJson(req, ctx.bodyLimit));
        coordinator().leave(name, l.memberId, owner(req).principal);
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
