import type { ClusterSettings } from '../../../shared/cluster-api.js';
import type { ProcessSpec } from './managed-process.js';

/** Every Redis key of the desktop cluster starts with this, so it can share an external Redis. */
export const DESKTOP_CLUSTER_ID = 'yak-desktop';

/**
 * The embedded Redis: loopback only, append-only file for durability across its own restarts
 * (a Redis restart is one of the faults the demo shows), no RDB snapshots.
 */
export function redisSpec(command: string, port: number, dataDir: string): ProcessSpec {
  return {
    name: 'redis',
    kind: 'redis',
    command,
    args: [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--protected-mode', 'yes',
      '--dir', dataDir,
      '--save', '',
      '--appendonly', 'yes',
      '--daemonize', 'no',
    ],
    env: { ...process.env },
    port,
  };
}

export interface BrokerSpecInput {
  id: string;
  port: number;
  /** The broker's Kafka listener (--kafka-port), on loopback like its HTTP port. */
  kafkaPort: number;
  dataDir: string;
  redisUrl: string;
  settings: ClusterSettings;
  /** The built broker-runtime/bin/yak-broker.js. */
  brokerEntry: string;
  /** Electron's or Node's own binary: no separate Node install needed inside the packaged app. */
  execPath: string;
  /** The cluster's auth file (cluster-credential.ts): brokers answer only the supervisor. */
  authFile: string | null;
}

export function brokerUrl(port: number): string {
  return `http://127.0.0.1:${port}`;
}

/** One broker: the flags of DESIGN.md's table, run by our own binary in Node mode. */
export function brokerSpec(input: BrokerSpecInput): ProcessSpec {
  const { settings } = input;
  return {
    name: input.id,
    kind: 'broker',
    command: input.execPath,
    args: [
      input.brokerEntry,
      '--id', input.id,
      '--host', '127.0.0.1',
      '--port', String(input.port),
      '--kafka-port', String(input.kafkaPort),
      '--data-dir', input.dataDir,
      '--redis', input.redisUrl,
      '--cluster', DESKTOP_CLUSTER_ID,
      '--lease-seconds', String(settings.leaseSeconds),
      '--renew-seconds', String(settings.renewSeconds),
      '--partitions', String(settings.partitions),
      '--min-insync', String(settings.minInsync),
      ...(input.authFile ? ['--auth-file', input.authFile] : []),
    ],
    // ELECTRON_RUN_AS_NODE makes Electron's binary a plain Node; harmless when execPath is node.
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    port: input.port,
  };
}
