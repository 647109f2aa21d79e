import { AuthGate, permit } from '../auth/gate.js';
import { maySee } from '../auth/principal.js';
import type { KafkaAuth } from './backend.js';

/**
 * The Kafka listener's view of --auth-file: SASL/PLAIN checks `name` and `secret` exactly as a REST
 * bearer token `name:secret` is checked (same hashes, same cache, reloads with SIGHUP), and the
 * same permissions decide, and the same byte quotas count (reported as throttle_time_ms).
 */
export function kafkaAuth(gate: AuthGate): KafkaAuth {
  return {
    authenticate: (name, secret) => gate.principalOf(`${name}:${secret}`),
    current: (principal) => gate.current(principal),
    check: (principal, action) => {
      try {
        permit(principal, action);
        return null;
      } catch (err) {
        return (err as Error).message;
      }
    },
    maySee,
    charge: (principal, direction, bytes) => gate.chargePrincipal(principal, direction, bytes),
  };
}
