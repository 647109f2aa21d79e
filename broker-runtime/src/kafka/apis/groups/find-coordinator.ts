import type { RequestContext } from '../../context.js';
import { KAFKA_ERRORS } from '../../protocol/error-codes.js';
import type { Reader } from '../../protocol/reader.js';
import { Writer } from '../../protocol/writer.js';

/** FindCoordinator 0–2. Every group's coordinator is the cluster leader (groups/coordinator.ts runs there). */
export interface FindCoordinatorRequest {
  key: string;
  keyType: number;
}

export function decodeFindCoordinator(r: Reader, version: number): FindCoordinatorRequest {
  const key = r.string();
  const keyType = version >= 1 ? r.int8() : 0;
  return { key, keyType };
}

const GROUP_KEY = 0;

export function handleFindCoordinator(req: FindCoordinatorRequest, ctx: RequestContext): Promise<Writer> {
  const leader = ctx.backend.view().leader;
  let answer: { error: number; message: string | null; node: number; host: string; port: number };
  if (req.keyType !== GROUP_KEY) {
    answer = { error: KAFKA_ERRORS.INVALID_REQUEST, message: 'only group coordinators are served (transactions are not)', node: -1, host: '', port: -1 };
  } else if (!leader?.kafka) {
    // Clients retry: an election is under way, or the leader's Kafka address is not known yet.
    answer = { error: KAFKA_ERRORS.COORDINATOR_NOT_AVAILABLE, message: 'no leader with a Kafka listener right now', node: -1, host: '', port: -1 };
  } else {
    answer = { error: 0, message: null, node: leader.kafka.node_id, host: leader.kafka.host, port: leader.kafka.port };
  }
  const w = new Writer(64);
  if (ctx.apiVersion >= 1) w.int32(0);
  w.int16(answer.error);
  if (ctx.apiVersion >= 1) w.nullableString(answer.message);
  w.int32(answer.node).string(answer.host).int32(answer.port);
  return Promise.resolve(w);
}
