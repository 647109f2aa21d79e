import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { BrokerConfig } from '../config/types.js';

/**
 * Settings every broker of a cluster must share, published in each broker's registration: the
 * leader's decide, so a difference changes what the cluster does with every failover, silently.
 * Values are short strings (the auth file as a digest of its bytes: principals' secrets are stored
 * hashed in it, and only equality matters).
 */
export type SharedSettings = Record<string, string>;

interface Setting {
  flag: string;
  env: string;
  value(config: BrokerConfig): string;
  /** What differs while the other broker leads. */
  effect: string;
}

const SETTINGS: Record<string, Setting> = {
  min_insync: { flag: '--min-insync', env: 'MIN_INSYNC_REPLICAS', value: (c) => String(c.minInsync), effect: 'a write is acknowledged with a different number of copies depending on which broker leads' },
  partitions: { flag: '--partitions', env: 'DEFAULT_PARTITIONS', value: (c) => String(c.defaultPartitions), effect: 'a topic created on first produce gets a different partition count (and keys other partitions) depending on which broker leads' },
  max_message_bytes: { flag: '--max-message-bytes', env: 'YAK_MAX_MESSAGE_BYTES', value: (c) => String(c.maxMessageBytes), effect: 'a record one leader accepts another refuses' },
  lease_ms: { flag: '--lease-seconds', env: 'LEASE_TIME_SECONDS', value: (c) => String(c.leaseMs / 1000), effect: 'failover takes a different time depending on which broker led' },
  fsync: { flag: '--fsync', env: 'YAK_FSYNC', value: (c) => c.fsync, effect: 'copies differ in what survives a power cut' },
  unclean_election: { flag: '--unclean-election', env: 'YAK_UNCLEAN_ELECTION', value: (c) => String(c.uncleanElection), effect: 'whether a broker outside the in-sync set may lead (and lose acknowledged records) depends on which one is left' },
  redis_wait_replicas: { flag: '--redis-wait-replicas', env: 'YAK_REDIS_WAIT_REPLICAS', value: (c) => String(c.redisWaitReplicas), effect: 'what a Redis failover can lose depends on which broker leads' },
  tls: { flag: '--tls-cert', env: 'TLS_CERT', value: (c) => (c.tls ? 'https' : 'http'), effect: 'clients must speak another scheme to each broker, and a broker without --tls-ca cannot check the others\' certificates' },
  auth_file: { flag: '--auth-file', env: 'AUTH_FILE', value: (c) => authDigest(c.authFile), effect: 'a client token that works on one broker is refused (401/403) by another, so clients fail when leadership moves' },
};

/** This broker's shared settings, read now (the auth file may have been reloaded with SIGHUP). */
export function sharedSettings(config: BrokerConfig): SharedSettings {
  const out: SharedSettings = {};
  for (const [key, s] of Object.entries(SETTINGS)) out[key] = s.value(config);
  return out;
}

function authDigest(file: string | null): string {
  if (file === null) return 'none';
  try {
    return `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16)}`;
  } catch {
    return 'unreadable';
  }
}

/**
 * One line per setting a live peer registered with another value than this broker's, each said
 * once per (peer, setting, both values): `warned` keeps what was said. Peers of a version without
 * settings in their registration are skipped.
 */
export function driftLines(self: { id: string; settings: SharedSettings }, peers: { id: string; alive: boolean; settings?: SharedSettings }[], warned: Set<string>): string[] {
  const lines: string[] = [];
  for (const p of peers) {
    if (p.id === self.id || !p.alive || !p.settings) continue;
    for (const [key, s] of Object.entries(SETTINGS)) {
      const theirs = p.settings[key];
      const ours = self.settings[key];
      if (theirs === undefined || ours === undefined || theirs === ours) continue;
      const said = `${p.id}\u0000${key}\u0000${theirs}\u0000${ours}`;
      if (warned.has(said)) continue;
      warned.add(said);
      lines.push(
        `broker ${p.id} runs with ${s.flag} ${theirs}, this broker (${self.id}) with ${ours}: ${s.effect}. ` +
          `Give every broker of the cluster the same ${s.flag} (${s.env})${key === 'auth_file' ? ' file' : ''}`,
      );
    }
  }
  return lines;
}
