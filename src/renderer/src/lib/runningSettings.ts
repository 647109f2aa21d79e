import type { ClusterSnapshot } from '../../../shared/cluster-api';

export interface RunningSettings {
  leaseSeconds: number;
  minInsync: number;
}

/**
 * What the running brokers were started with: the leader's flags, else any started broker's, else
 * the saved settings. Saved settings apply only on the next start, so until then they are not what
 * runs (a 2 s lease was drawn on an 8 s scale after the lease setting was changed).
 */
export function runningSettings(s: ClusterSnapshot | null | undefined): RunningSettings {
  const brokers = s?.brokers ?? [];
  const ran = brokers.find((b) => b.id === s?.leader?.id)?.runsWith ?? brokers.find((b) => b.runsWith)?.runsWith ?? null;
  return {
    leaseSeconds: ran?.leaseSeconds ?? s?.settings.leaseSeconds ?? 10,
    minInsync: ran?.minInsync ?? s?.settings.minInsync ?? 1,
  };
}
