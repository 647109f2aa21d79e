import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ClusterSettings } from '../../shared/cluster-api.js';
import { invalidArgument } from '../api/errors.js';
import { settingsPatch } from '../api/validate.js';

/** Demo values: a lease short enough that a failover is over in a few seconds, on a laptop. */
export const DEFAULT_SETTINGS: ClusterSettings = {
  brokerCount: 3,
  leaseSeconds: 2,
  renewSeconds: 0.5,
  partitions: 3,
  minInsync: 1,
  externalRedisUrl: null,
};

/** Applies a (validated) patch and checks the rules that span fields. */
export function mergeSettings(current: ClusterSettings, patch: Partial<ClusterSettings>): ClusterSettings {
  const next = { ...current, ...patch };
  if (next.renewSeconds >= next.leaseSeconds) {
    throw invalidArgument(`renewSeconds (${next.renewSeconds}) must be less than leaseSeconds (${next.leaseSeconds}), or the lease lapses between renewals`);
  }
  if (next.minInsync > next.brokerCount) {
    throw invalidArgument(`minInsync (${next.minInsync}) must not exceed brokerCount (${next.brokerCount}), or no produce can ever commit`);
  }
  return next;
}

/**
 * Settings live next to the cluster's data, so a restarted app brings back the same cluster.
 * A missing or damaged file falls back to the defaults rather than refusing to start.
 */
export async function loadSettings(file: string): Promise<ClusterSettings> {
  try {
    const raw: unknown = JSON.parse(await readFile(file, 'utf8'));
    return mergeSettings(DEFAULT_SETTINGS, settingsPatch(raw));
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
}

export async function saveSettings(file: string, settings: ClusterSettings): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  await writeFile(tmp, `${JSON.stringify(settings, null, 2)}\n`);
  await rename(tmp, file);
}
