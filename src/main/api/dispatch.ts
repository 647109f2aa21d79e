import { CLUSTER_API_CALLS, type ClusterApi, type ClusterApiCall } from '../../shared/cluster-api.js';
import { ApiError, invalidArgument } from './errors.js';
import { VALIDATORS } from './validate.js';

/** What a host needs from the supervisor: every request/response call of the ClusterApi. */
export type ClusterCalls = Pick<ClusterApi, ClusterApiCall>;

export function isApiCall(method: string): method is ClusterApiCall {
  return (CLUSTER_API_CALLS as readonly string[]).includes(method);
}

/**
 * The single door from a host into the supervisor: checks the method name, validates the
 * arguments, then calls. Throws ApiError for anything refused (hosts map it with toCallFailure).
 */
export async function dispatchCall(api: ClusterCalls, method: string, args: unknown): Promise<unknown> {
  if (!isApiCall(method)) throw new ApiError('UNKNOWN_METHOD', `'${method.slice(0, 60)}' is not a ClusterApi call`);
  if (!Array.isArray(args)) throw invalidArgument(`${method}: args must be an array`);
  const validated = (VALIDATORS[method] as (a: readonly unknown[]) => unknown[])(args);
  const fn = api[method] as (...a: unknown[]) => Promise<unknown>;
  const result = await fn.apply(api, validated);
  // Calls that resolve to nothing still answer a value, so HTTP and IPC both carry `null`.
  return result === undefined ? null : result;
}
