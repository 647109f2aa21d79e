import { TransportError } from './transport.js';

/**
 * Why a follower could not be reached at all (as opposed to answering with an error), in words an
 * operator can act on, or null when the failure was something else. `kind` names the condition:
 * a new kind is a new condition, logged again.
 */
export function unreachableReason(err: unknown, url: string): { kind: string; why: string } | null {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const host = hostOf(url);
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
      return { kind: 'dns', why: `the host name ${host} does not resolve here (${code})` };
    case 'ECONNREFUSED':
      return { kind: 'refused', why: `connection refused (nothing listens on ${host} at that port)` };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return { kind: 'no-route', why: `no route to ${host} (${code})` };
    case 'ETIMEDOUT':
      return { kind: 'timeout', why: `connecting to ${host} timed out (${code})` };
    case 'ECONNRESET':
    case 'EPIPE':
      return { kind: 'reset', why: `the connection was reset (${code})` };
  }
  if (err instanceof TransportError && err.status === undefined && /^no answer within/.test(err.message)) return { kind: 'timeout', why: err.message };
  return null;
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}
