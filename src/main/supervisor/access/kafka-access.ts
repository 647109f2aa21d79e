import type { KafkaAccess, ProcessState } from '../../../shared/cluster-api.js';

/** One broker as kafkaAccessOf needs it: its id, its Kafka listener's port (0: never started) and its process state. */
export interface KafkaListenerOf {
  id: string;
  kafkaPort: number;
  state: ProcessState;
}

/**
 * How a developer's Kafka client reaches the desktop cluster: the Kafka listener on loopback of
 * every broker whose process runs, SASL/PLAIN over plaintext with the `kafka-client` principal of
 * the cluster's auth file (cluster-credential.ts). A stopped, crashed, paused or starting broker
 * has no listener that answers, so it is left out of the bootstrap list (and named in `leftOut`):
 * a client would otherwise try a dead address first. Brokers never started (port 0) are left out
 * silently — they have no address yet.
 */
export function kafkaAccessOf(brokers: readonly KafkaListenerOf[], client: { username: string; password: string }): KafkaAccess {
  const started = brokers.filter((b) => b.kafkaPort > 0);
  const address = (b: KafkaListenerOf) => `127.0.0.1:${b.kafkaPort}`;
  const bootstrap = started.filter((b) => b.state === 'running').map(address).join(',');
  const leftOut = started.filter((b) => b.state !== 'running').map((b) => ({ id: b.id, address: address(b), state: b.state }));
  const kcat = [
    'kcat',
    '-b', bootstrap,
    '-X', 'security.protocol=SASL_PLAINTEXT',
    '-X', 'sasl.mechanisms=PLAIN',
    '-X', `sasl.username=${client.username}`,
    '-X', `sasl.password=${client.password}`,
    '-L',
  ].join(' ');
  return { bootstrap, leftOut, securityProtocol: 'SASL_PLAINTEXT', mechanism: 'PLAIN', username: client.username, password: client.password, kcat };
}
