import { mayUseGroup, type Principal } from '../auth/principal.js';
import { KafkaError } from './protocol/error-codes.js';
import type { Logger } from '../logger.js';
import type { KafkaAuth, KafkaBackend } from './backend.js';

/** What every API handler is given: the broker, the connection's principal and the request header. */
export interface RequestContext {
  backend: KafkaBackend;
  /** Null without --auth-file. */
  auth: KafkaAuth | null;
  /** The authenticated principal of this connection (null while open or before SASL). */
  principal: Principal | null;
  apiVersion: number;
  clientId: string | null;
  log: Logger;
  /** Stop reading this connection's requests for `ms` (a quota's throttle time). */
  throttle(ms: number): void;
  /** Bytes a request's compressed batches inflated to (held until its answer goes out). */
  decompressed?(bytes: number): void;
}

/**
 * Counts `bytes` against the connection's principal's quota; answers the throttle time to report
 * (throttle_time_ms) and mutes the connection for as long. 0 without an auth file or a quota.
 */
export function chargeQuota(ctx: RequestContext, direction: 'in' | 'out', bytes: number): number {
  if (!ctx.auth || !ctx.principal || bytes === 0) return 0;
  const ms = ctx.auth.charge(ctx.principal, direction, bytes);
  if (ms > 0) ctx.throttle(ms);
  return ms;
}

/** Null when allowed; otherwise why not (the caller answers TOPIC_AUTHORIZATION_FAILED). */
export function denied(ctx: RequestContext, action: { op: 'produce' | 'consume'; topic: string } | { op: 'admin' }): string | null {
  if (!ctx.auth || !ctx.principal) return null;
  return ctx.auth.check(ctx.principal, action);
}

/**
 * Throws GROUP_AUTHORIZATION_FAILED unless the connection's principal may use `group` (its `groups`
 * patterns, when it has them: Kafka's Group ACL). Nothing to check without an auth file.
 */
export function checkGroup(ctx: RequestContext, group: string): void {
  if (!ctx.auth || !ctx.principal || mayUseGroup(ctx.principal, group)) return;
  throw new KafkaError('GROUP_AUTHORIZATION_FAILED', `principal '${ctx.principal.name}' may not use group '${group}'`);
}

/** The principal's name for the coordinator (a member belongs to the principal that joined it); undefined when open. */
export function principalName(ctx: RequestContext): { principal?: string } {
  return ctx.principal ? { principal: ctx.principal.name } : {};
}

export const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
