import { Redis, type RedisOptions } from 'ioredis';
import type { OutboundTls } from '../config/tls.js';
import type { RedisSentinelAddress } from '../config/types.js';
import { redactUrl } from '../config/values.js';

/** Where the broker's Redis is: one server (`url`), or the master Sentinels name (`sentinels` non-empty). */
export interface RedisTarget {
  /** redis:// or rediss://; with Sentinels only its scheme, user, password and database count. */
  url: string;
  sentinels: readonly RedisSentinelAddress[];
  masterName: string;
  /** AUTH for the Sentinels themselves (their requirepass); absent = none. */
  sentinelPassword?: string | null;
  /** --tls-ca and this broker's certificate, for rediss:// (to the master and to the Sentinels). */
  tls: OutboundTls;
}

/** The part of a BrokerConfig that says where Redis is. */
export function redisTarget(
  config: { redisUrl: string; redisSentinels: readonly RedisSentinelAddress[]; redisMasterName: string; redisSentinelPassword: string | null },
  tls: OutboundTls,
): RedisTarget {
  return { url: config.redisUrl, sentinels: config.redisSentinels, masterName: config.redisMasterName, sentinelPassword: config.redisSentinelPassword, tls };
}

/** How Redis may be named in logs and errors: no password. */
export function describeRedis(target: Pick<RedisTarget, 'url' | 'sentinels' | 'masterName'>): string {
  if (target.sentinels.length === 0) return redactUrl(target.url);
  const list = target.sentinels.map((s) => `${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`).join(',');
  return `master '${target.masterName}' via Sentinels ${list}`;
}

/**
 * The one place a broker opens a Redis connection (commands, pub/sub): the same server, TLS and
 * credentials for all of them, whether Redis is one server or a master found through Sentinels.
 * `options` adds what the connection's use needs (timeouts, retries).
 */
export function connectRedis(target: RedisTarget, options: RedisOptions): Redis {
  const tls = target.url.startsWith('rediss:');
  if (target.sentinels.length === 0) {
    // A redis:// URL must get no `tls` option at all: ioredis would then speak TLS anyway.
    return new Redis(target.url, { ...(tls ? { tls: { ...target.tls } } : {}), ...options });
  }
  return keepConnecting(new Redis({
    ...credentials(target.url),
    sentinels: target.sentinels.map((s) => ({ host: s.host, port: s.port })),
    name: target.masterName,
    role: 'master',
    ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
    ...(tls ? { tls: { ...target.tls }, enableTLSForSentinelMode: true, sentinelTLS: { ...target.tls } } : {}),
    // Learn of a failover from the Sentinels' +switch-master at once: a master that hangs
    // (paused, cut off) keeps its TCP connection open, and commands would only time out.
    failoverDetector: true,
    sentinelRetryStrategy: (times) => Math.min(100 * times, 1000),
    // A master demoted to replica answers READONLY: find the new master through the Sentinels.
    // The failed command is not re-sent (1, not 2): the caller sees it fail and decides again.
    reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 1 : false),
    ...options,
  }));
}

const closedByUs = new WeakSet<Redis>();

/** Close a connection made by connectRedis for good (it would otherwise be reopened). */
export function closeRedis(redis: Redis): Promise<void> {
  closedByUs.add(redis);
  return redis.quit().then(
    () => undefined,
    () => redis.disconnect(),
  );
}

/**
 * ioredis 5 ends a Sentinel connection for good ('end', every command then fails with "Connection
 * is closed.") when the failover detector disconnects it while it is still asking the Sentinels
 * for the new master — which is what a +switch-master during a reconnect does. Seen in
 * test/integration/redis/sentinel.test.ts: one broker of three never reached Redis again after a
 * failover. A connection that ended without closeRedis is opened again.
 */
function keepConnecting(redis: Redis): Redis {
  redis.on('end', () => {
    if (closedByUs.has(redis)) return;
    setTimeout(() => {
      if (!closedByUs.has(redis) && redis.status === 'end') redis.connect().catch(() => {});
    }, 100).unref();
  });
  return redis;
}

/** User, password and database of a redis:// URL (what applies to the master found through Sentinels). */
function credentials(url: string): Pick<RedisOptions, 'username' | 'password' | 'db'> {
  const u = new URL(url);
  const db = Number(u.pathname.replace(/^\//, '') || '0');
  return {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(Number.isSafeInteger(db) && db > 0 ? { db } : {}),
  };
}
