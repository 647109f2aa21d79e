import type { BrokerSnapshot } from '../../../shared/cluster-api';

export type BrokerHealth = 'alive' | 'paused' | 'dead' | 'starting' | 'unresponsive';

/** What a learner should call this broker right now, from its process state and its /health. */
export function brokerHealth(b: BrokerSnapshot): BrokerHealth {
  switch (b.process.state) {
    case 'paused':
      return 'paused';
    case 'starting':
      return 'starting';
    case 'stopped':
    case 'exited':
    case 'crashed':
      return 'dead';
    case 'stopping':
    case 'running':
      return b.reachable ? 'alive' : 'unresponsive';
  }
}
