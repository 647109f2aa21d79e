import type { KafkaAccess } from '../../../shared/cluster-api.js';

/**
 * How a developer's Kafka client reaches the desktop cluster: every broker's Kafka listener on
 * loopback (brokers not started yet have port 0 and are left out), SASL/PLAIN over plaintext
 * with the `kafka-client` principal of the cluster's auth file (cluster-credential.ts).
 */
export function kafkaAccessOf(kafkaPorts: readonly number[], client: { username: string; password: string }): KafkaAccess {
  const bootstrap = kafkaPorts.filter((p) => p > 0).map((p) => `127.0.0.1:${p}`).join(',');
  const kcat = [
    'kcat',
    '-b', bootstrap,
    '-X', 'security.protocol=SASL_PLAINTEXT',
    '-X', 'sasl.mechanisms=PLAIN',
    '-X', `sasl.username=${client.username}`,
    '-X', `sasl.password=${client.password}`,
    '-L',
  ].join(' ');
  return { bootstrap, securityProtocol: 'SASL_PLAINTEXT', mechanism: 'PLAIN', username: client.username, password: client.password, kcat };
}
