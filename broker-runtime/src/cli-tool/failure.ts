import { YakClientError, YakForbiddenError, YakRetriesExhaustedError, YakUnauthenticatedError } from '../client/index.js';
import type { Connection } from './connect.js';

const TOKEN_HINT = 'give --token <principal>:<secret> or set YAK_TOKEN';
/** Attempt outcomes that mean no broker answered (errors.ts: a client code, no status). */
const NO_ANSWER = new Set(['CONNECTION_FAILED', 'REQUEST_TIMEOUT']);
/** Brokers that answer but elect nobody: most often none of them reaches Redis (not started, wrong --redis). */
export const NO_LEADER_HINT = 'brokers elect one within seconds of reaching Redis: check that redis-server runs and every broker\'s --redis, and see GET /health (degraded_reasons) or the brokers\' logs';
const TLS_HINT = 'give --ca FILE (the CA that signed the brokers\' certificates), and --tls-cert/--tls-key for mutual TLS';

/**
 * A client failure as one line that names the problem and, where there is one, the fix:
 * no broker answered, the token is missing or wrong, TLS did not verify, the broker refused.
 */
export function describeFailure(err: YakClientError, connection: Pick<Connection, 'brokers' | 'hasToken'>): string {
  if (err instanceof YakUnauthenticatedError) {
    return connection.hasToken
      ? `the broker did not accept the token (401 UNAUTHENTICATED: ${err.message}); check --token / YAK_TOKEN`
      : `the broker needs a token (401 UNAUTHENTICATED: ${err.message}); ${TOKEN_HINT}`;
  }
  if (err instanceof YakForbiddenError) return `the token's principal may not do this (403 FORBIDDEN: ${err.message})`;
  if (err.code === 'TLS_FAILED') return `${stripClientHint(err.message)}; ${TLS_HINT}`;
  if (err instanceof YakRetriesExhaustedError) {
    const last = err.lastError;
    const tries = `gave up after ${err.tries} tries`;
    if (last.code === 'TLS_FAILED') return `${stripClientHint(last.message)}; ${TLS_HINT}`;
    if (last.status === 0 && last.code !== 'NO_LEADER') {
      return `no broker reachable at ${connection.brokers.join(',')} (${tries}; last: ${last.code}: ${last.message}); check --brokers / YAK_BROKERS`;
    }
    // Leader discovery asks every seed; when none answered at all, say that rather than "no leader".
    const outcomes = new Set(err.attempts.map((a) => a.outcome));
    if (outcomes.size > 0 && [...outcomes].every((outcome) => NO_ANSWER.has(outcome))) {
      return `no broker reachable at ${connection.brokers.join(',')} (${tries}; every request: ${[...outcomes].join(' or ')}); check --brokers / YAK_BROKERS`;
    }
    if (last.code === 'NO_LEADER') return `the cluster has no leader (${tries}; ${last.message}); ${NO_LEADER_HINT}`;
    return `${answer(last)} (${tries})`;
  }
  if (err.code === 'NO_LEADER') return `the cluster has no leader: ${err.message}; ${NO_LEADER_HINT}`;
  if (err.status === 0) return `${err.code}: ${err.message}`;
  return answer(err);
}

function answer(err: YakClientError): string {
  return `${err.status} ${err.code}: ${err.message}`;
}

/** The client's own advice names its options (ca, cert/key); the CLI names its flags instead. */
function stripClientHint(message: string): string {
  return message.replace(/; give the client.*$/, '');
}

/** Any text as one line (a broker's message could hold a newline). */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
