import { mayUseGroup } from '../../../auth/principal.js';
import { checkGroup, type RequestContext } from '../../context.js';
import { KAFKA_ERRORS } from '../../protocol/error-codes.js';
import type { Reader } from '../../protocol/reader.js';
import { Writer } from '../../protocol/writer.js';
import { groupCodeOf } from './group-codes.js';

/**
 * DescribeGroups 0–4 and ListGroups 0–2, from the coordinator's groups (REST groups too: protocol
 * type `yak`). With an auth file a principal sees only the groups its `groups` patterns allow (as
 * Kafka's Describe ACL on groups): ListGroups leaves the others out, DescribeGroups answers them
 * GROUP_AUTHORIZATION_FAILED (30) without saying whether they exist.
 */

export interface DescribeGroupsRequest {
  groups: string[];
}

export function decodeDescribeGroups(r: Reader, version: number): DescribeGroupsRequest {
  const groups = r.array((r) => r.string());
  if (version >= 3) r.boolean(); // include_authorized_operations: answered as not computed
  return { groups };
}

/** Kafka's authorized_operations value for "not asked for / not computed". */
const OPERATIONS_NOT_COMPUTED = -2147483648;

export function handleDescribeGroups(req: DescribeGroupsRequest, ctx: RequestContext): Promise<Writer> {
  // A group named twice is described once: each description carries every member's metadata (up
  // to 16 MiB a group), so 2,000 copies of a name (6 KB) were answered with 120 MB.
  const groups = [...new Set(req.groups)].map((id) => {
    try {
      checkGroup(ctx, id);
      const g = ctx.backend.groups.describeRaw(id);
      // A group this coordinator does not know is "Dead" with no error, as Kafka answers.
      if (!g) return { error: 0, id, state: 'Dead', protocolType: '', protocol: '', members: [] };
      return { error: 0, id, state: g.state, protocolType: g.protocolType, protocol: g.protocol, members: g.members };
    } catch (err) {
      return { error: groupCodeOf(err), id, state: '', protocolType: '', protocol: '', members: [] };
    }
  });
  const v = ctx.apiVersion;
  const w = new Writer(256);
  if (v >= 1) w.int32(0);
  w.array(groups, (w, g) => {
    w.int16(g.error).string(g.id).string(g.state).string(g.protocolType).string(g.protocol);
    w.array(g.members, (w, m) => {
      w.string(m.memberId);
      if (v >= 4) w.nullableString(null);
      w.string(m.clientId).string('').bytes(m.metadata).bytes(m.assignment);
    });
    if (v >= 3) w.int32(OPERATIONS_NOT_COMPUTED);
  });
  return Promise.resolve(w);
}

/** ListGroups asks one broker for the groups it coordinates: a broker that does not lead coordinates none. */
export function handleListGroups(ctx: RequestContext): Promise<Writer> {
  let error = 0;
  let groups: { group: string; protocol_type: string }[] = [];
  try {
    groups = ctx.backend.groups.list();
    const principal = ctx.auth ? ctx.principal : null;
    if (principal) groups = groups.filter((g) => mayUseGroup(principal, g.group));
  } catch (err) {
    error = groupCodeOf(err);
    if (error === KAFKA_ERRORS.NOT_COORDINATOR) error = 0;
  }
  const w = new Writer(128);
  if (ctx.apiVersion >= 1) w.int32(0);
  w.int16(error);
  w.array(groups, (w, g) => w.string(g.group).string(g.protocol_type));
  return Promise.resolve(w);
}
