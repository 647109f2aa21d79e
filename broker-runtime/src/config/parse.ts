import { hostname as osHostname } from 'node:os';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { scanArgv } from './argv.js';
import { ConfigError } from './config-error.js';
import { FLAGS_BY_NAME } from './flags.js';
import { helpText } from './help.js';
import { parseTls } from './tls.js';
import type { BrokerConfig, RedisSentinelAddress } from './types.js';
import { DEFAULT_MAX_CONNECTIONS } from '../kafka/connection-limit.js';
import { DEFAULT_MAX_HTTP_CONNECTIONS } from '../http/connection-limit.js';
import { defaultNodeId } from './node-id.js';
import { canonicalHostName } from '../http/host-check.js';
import {
  boolean,
  describe,
  hostName,
  integer,
  invalid,
  MAX_MS,
  matching,
  oneOf,
  parseAdvertisedUrl,
  parseHost,
  parseRedisUrl,
  seconds,
  urlHost,
  type Raw,
} from './values.js';

export { ConfigError };

export type ParsedArgs =
  | { kind: 'config'; config: BrokerConfig }
  | { kind: 'help'; text: string }
  | { kind: 'version' }
  /** `yak-broker hash-secret`: read a secret on stdin, print its hash for --auth-file. */
  | { kind: 'hash-secret' };

const HASH_SECRET = 'hash-secret';
const NAME_RE = /^[A-Za-z0-9._-]{1,64}$/;
const NAME_RULE = '1-64 characters of A-Z a-z 0-9 . _ -';
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const LOG_FORMATS = ['text', 'json'] as const;
const FSYNC_POLICIES = ['always', 'interval', 'never'] as const;

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 5001,
  redisUrl: 'redis://localhost:6379',
  /** The name Redis's own sentinel.conf (and Debian's) monitors. */
  redisMasterName: 'mymaster',
  sentinelPort: 26379,
  cluster: 'yak',
  leaseSeconds: 10,
  renewSeconds: 5,
  partitions: 3,
  minInsync: 1,
  segmentBytes: 64 * 1024 * 1024,
  retentionHours: 168,
  retentionCheckSeconds: 30,
  fsync: 'interval',
  fsyncIntervalMs: 1000,
  maxOpenFiles: 512,
  maxGroups: 10_000,
  maxPartitions: 20_000,
  maxGroupMembers: 1000,
  maxMessageBytes: 1_048_576,
  produceTimeoutSeconds: 30,
  logLevel: 'info',
  logFormat: 'text',
} as const;

/**
 * Parses argv (without node and script) and the environment into a validated BrokerConfig.
 * Throws ConfigError for anything wrong; --help and --version win over other flags.
 */
export function parseConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  hostname: string = osHostname(),
): ParsedArgs {
  if (argv[0] === HASH_SECRET) {
    if (argv.length > 1) {
      throw new ConfigError(`${HASH_SECRET} takes no arguments: it reads the secret from stdin (echo -n "$SECRET" | yak-broker ${HASH_SECRET})`);
    }
    return { kind: 'hash-secret' };
  }
  const { flags, help, version, error } = scanArgv(argv);
  if (help) return { kind: 'help', text: helpText() };
  if (version) return { kind: 'version' };
  if (error) throw error;
  return { kind: 'config', config: buildConfig(flags, env, hostname) };
}

function buildConfig(flags: Map<string, string>, env: NodeJS.ProcessEnv, hostname: string): BrokerConfig {
  const raw = (name: string): Raw | undefined => {
    const fromFlag = flags.get(name);
    if (fromFlag !== undefined) return { value: fromFlag };
    for (const envName of FLAGS_BY_NAME.get(name)?.env ?? []) {
      const v = env[envName]?.trim();
      if (v) return { value: v, env: envName };
    }
    return undefined;
  };

  const idRaw = raw('id');
  const id = idRaw ? matching('id', idRaw, NAME_RE, NAME_RULE) : defaultId(hostname);
  const hostRaw = raw('host');
  const host = hostRaw ? parseHost(hostRaw) : DEFAULTS.host;
  const portRaw = raw('port');
  const port = portRaw ? integer('port', portRaw, 1, 65535) : DEFAULTS.port;
  const { tls, tlsCa } = parseTls(raw('tls-cert'), raw('tls-key'), raw('tls-ca'), raw('tls-client-auth'));
  const advertisedRaw = raw('advertised-url');
  const advertisedUrl = advertisedRaw ? parseAdvertisedUrl(advertisedRaw) : defaultAdvertisedUrl(host, port, hostname, tls !== null);
  if (advertisedRaw) checkAdvertisedScheme(advertisedRaw, advertisedUrl, tls !== null);
  const dataDirRaw = raw('data-dir');
  const dataDir = resolve(dataDirRaw ? dataDirRaw.value : `./data/${id}`);
  const redis = redisUrl(raw('redis'), env);
  const { sentinels, masterName } = parseSentinels(raw('redis-sentinels'), raw('redis-master-name'));
  const sentinelPassword = parseSentinelPassword(raw('redis-sentinel-password'), sentinels.length > 0);
  const waitReplicasRaw = raw('redis-wait-replicas');
  const clusterRaw = raw('cluster');
  const cluster = clusterRaw ? matching('cluster', clusterRaw, NAME_RE, NAME_RULE) : DEFAULTS.cluster;

  const leaseRaw = raw('lease-seconds');
  const leaseMs = leaseRaw ? seconds('lease-seconds', leaseRaw) : DEFAULTS.leaseSeconds * 1000;
  const renewRaw = raw('renew-seconds');
  const renewMs = renewRaw ? seconds('renew-seconds', renewRaw) : DEFAULTS.renewSeconds * 1000;
  if (renewMs >= leaseMs) {
    throw new ConfigError(
      `--renew-seconds (${describe(renewRaw, renewMs)}) must be less than --lease-seconds ` +
        `(${describe(leaseRaw, leaseMs)}): the leader must renew its lease before it runs out`,
      '--renew-seconds',
    );
  }

  const partitionsRaw = raw('partitions');
  const minInsyncRaw = raw('min-insync');
  const lagRaw = raw('replica-lag-seconds');
  const uncleanRaw = raw('unclean-election');
  const segmentRaw = raw('segment-bytes');
  const retentionHoursRaw = raw('retention-hours');
  const retentionBytesRaw = raw('retention-bytes');
  const retentionCheckRaw = raw('retention-check-seconds');
  const fsyncRaw = raw('fsync');
  const fsyncIntervalRaw = raw('fsync-interval-ms');
  const maxMessageRaw = raw('max-message-bytes');
  const maxOpenFilesRaw = raw('max-open-files');
  const maxGroupsRaw = raw('max-groups');
  const maxPartitionsRaw = raw('max-partitions');
  const maxGroupMembersRaw = raw('max-group-members');
  const produceTimeoutRaw = raw('produce-timeout-seconds');
  const logLevelRaw = raw('log-level');
  const logFormatRaw = raw('log-format');
  const allowOriginRaw = raw('allow-origin');
  const allowHostRaw = raw('allow-host');
  const authFileRaw = raw('auth-file');
  const authFile = authFileRaw ? resolve(authFileRaw.value) : null;
  const insecureRaw = raw('insecure');
  const insecure = insecureRaw ? boolean('insecure', insecureRaw) : false;
  if (authFile === null && !insecure && !isLoopback(host)) throw protectedMode(host, hostRaw);
  const kafkaPortRaw = raw('kafka-port');
  const kafkaPort = kafkaPortRaw ? integer('kafka-port', kafkaPortRaw, 1, 65535) : null;
  if (kafkaPort !== null && kafkaPort === port) throw invalid('kafka-port', kafkaPortRaw!, `a port other than --port ${port}`);
  const kafkaAdvertisedRaw = raw('kafka-advertised');
  if (kafkaAdvertisedRaw && kafkaPort === null) throw invalid('kafka-advertised', kafkaAdvertisedRaw, 'given together with --kafka-port');
  const kafkaAdvertised = kafkaPort === null ? null : kafkaAdvertisedRaw ? hostPort('kafka-advertised', kafkaAdvertisedRaw) : { host: new URL(advertisedUrl).hostname.replace(/^\[|\]$/g, ''), port: kafkaPort };
  const maxConnectionsRaw = raw('max-connections');
  const kafkaMaxConnectionsRaw = raw('kafka-max-connections');
  if (kafkaMaxConnectionsRaw && kafkaPort === null) throw invalid('kafka-max-connections', kafkaMaxConnectionsRaw, 'given together with --kafka-port');
  const kafkaMaxConnections = kafkaMaxConnectionsRaw ? integer('kafka-max-connections', kafkaMaxConnectionsRaw, 1, 1_048_576) : DEFAULT_MAX_CONNECTIONS;
  const replicationStreamRaw = raw('replication-stream');
  const nodeIdRaw = raw('node-id');
  const nodeId = nodeIdRaw ? integer('node-id', nodeIdRaw, 0, 2_147_483_647) : defaultNodeId(id);

  return {
    id,
    host,
    port,
    advertisedUrl,
    dataDir,
    redisUrl: redis,
    redisSentinels: sentinels,
    redisMasterName: masterName,
    redisSentinelPassword: sentinelPassword,
    redisWaitReplicas: waitReplicasRaw ? integer('redis-wait-replicas', waitReplicasRaw, 0, 16) : sentinels.length > 0 ? 1 : 0,
    cluster,
    leaseMs,
    renewMs,
    defaultPartitions: partitionsRaw ? integer('partitions', partitionsRaw, 1, 1000) : DEFAULTS.partitions,
    minInsync: minInsyncRaw ? integer('min-insync', minInsyncRaw, 1, Number.MAX_SAFE_INTEGER) : DEFAULTS.minInsync,
    replicaLagMs: lagRaw ? seconds('replica-lag-seconds', lagRaw) : leaseMs,
    uncleanElection: uncleanRaw ? boolean('unclean-election', uncleanRaw) : false,
    segmentBytes: segmentRaw ? integer('segment-bytes', segmentRaw, 1024, 2_147_483_647) : DEFAULTS.segmentBytes,
    retentionMs: retentionHoursRaw ? hoursOrNever('retention-hours', retentionHoursRaw) : DEFAULTS.retentionHours * 3_600_000,
    retentionBytes: retentionBytesRaw ? bytesOrUnlimited('retention-bytes', retentionBytesRaw) : null,
    retentionCheckMs: retentionCheckRaw ? seconds('retention-check-seconds', retentionCheckRaw) : DEFAULTS.retentionCheckSeconds * 1000,
    fsync: fsyncRaw ? oneOf('fsync', fsyncRaw, FSYNC_POLICIES) : DEFAULTS.fsync,
    fsyncIntervalMs: fsyncIntervalRaw ? integer('fsync-interval-ms', fsyncIntervalRaw, 1, MAX_MS) : DEFAULTS.fsyncIntervalMs,
    maxOpenFiles: maxOpenFilesRaw ? integer('max-open-files', maxOpenFilesRaw, 16, 1_048_576) : DEFAULTS.maxOpenFiles,
    maxGroups: maxGroupsRaw ? integer('max-groups', maxGroupsRaw, 1, 10_000_000) : DEFAULTS.maxGroups,
    maxPartitions: maxPartitionsRaw ? integer('max-partitions', maxPartitionsRaw, 1, 10_000_000) : DEFAULTS.maxPartitions,
    maxGroupMembers: maxGroupMembersRaw ? integer('max-group-members', maxGroupMembersRaw, 1, 100_000) : DEFAULTS.maxGroupMembers,
    maxConnections: maxConnectionsRaw ? integer('max-connections', maxConnectionsRaw, 1, 1_048_576) : DEFAULT_MAX_HTTP_CONNECTIONS,
    maxMessageBytes: maxMessageRaw ? integer('max-message-bytes', maxMessageRaw, 1, 1_073_741_824) : DEFAULTS.maxMessageBytes,
    produceTimeoutMs: produceTimeoutRaw
      ? seconds('produce-timeout-seconds', produceTimeoutRaw)
      : DEFAULTS.produceTimeoutSeconds * 1000,
    logLevel: logLevelRaw ? oneOf('log-level', logLevelRaw, LOG_LEVELS) : DEFAULTS.logLevel,
    logFormat: logFormatRaw ? oneOf('log-format', logFormatRaw, LOG_FORMATS) : DEFAULTS.logFormat,
    allowOrigins: allowOriginRaw ? parseOrigins(allowOriginRaw) : [],
    allowHosts: allowHostRaw ? parseAllowHosts(allowHostRaw) : [],
    authFile,
    insecure,
    tls,
    tlsCa,
    kafkaPort,
    kafkaAdvertised,
    kafkaMaxConnections,
    nodeId,
    replicationStream: replicationStreamRaw ? boolean('replication-stream', replicationStreamRaw) : true,
  };
}

/** HOST:PORT, IPv6 in brackets ([::1]:9092). */
function hostPort(flag: string, r: Raw): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:\[\]]+):(\d{1,5})$/.exec(r.value);
  const host = m ? hostName(m[1]!) : undefined;
  const port = m ? Number(m[2]) : 0;
  if (!m || host === undefined || port < 1 || port > 65535) throw invalid(flag, r, 'HOST:PORT such as kafka.example.com:9092 or [::1]:9092');
  return { host, port };
}

/** Hours (fractions allowed) > 0 as ms, or -1 for never (null). Not a timer, so not capped at MAX_MS. */
function hoursOrNever(flag: string, r: Raw): number | null {
  if (r.value.trim() === '-1') return null;
  const h = /^\+?(\d+(\.\d*)?|\.\d+)$/.test(r.value) ? Number(r.value) : Number.NaN;
  const ms = Math.round(h * 3_600_000);
  if (!Number.isFinite(h) || ms < 1 || !Number.isSafeInteger(ms)) throw invalid(flag, r, 'a number of hours > 0 (fractions allowed), or -1 for never');
  return ms;
}

/** Bytes >= 1, or -1 for unlimited (null). */
function bytesOrUnlimited(flag: string, r: Raw): number | null {
  if (r.value.trim() === '-1') return null;
  return integer(flag, r, 1, Number.MAX_SAFE_INTEGER);
}

/** Others reach this broker by its advertised URL, so its scheme must be the one the broker speaks. */
function checkAdvertisedScheme(raw: Raw, url: string, tlsOn: boolean): void {
  const https = url.startsWith('https:');
  if (https === tlsOn) return;
  const from = raw.env ? ` (from ${raw.env})` : '';
  throw new ConfigError(
    tlsOn
      ? `--advertised-url ${url}${from} is http:// but --tls-cert makes this broker serve HTTPS only: advertise https://`
      : `--advertised-url ${url}${from} is https:// but this broker serves plain HTTP: give --tls-cert and --tls-key, or advertise http://`,
    '--advertised-url',
  );
}

/**
 * Protected mode, as Redis has it: a broker reachable from other machines with no token to check
 * would let anyone on the network read, write and create every topic.
 */
function protectedMode(host: string, hostRaw: Raw | undefined): ConfigError {
  const from = hostRaw?.env ? ` (from ${hostRaw.env})` : '';
  return new ConfigError(
    `protected mode: refusing to listen on ${host}${from}, which is not a loopback address, without --auth-file: ` +
      'any client that can reach it could read and write every topic; give --auth-file PATH (docs/security.md), ' +
      'or --insecure to run open anyway',
    '--auth-file',
  );
}

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and the name localhost: addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/** --redis, else REDIS_URL, else REDIS_HOST + REDIS_PORT (either alone: localhost / 6379), else the default. */
function redisUrl(flagOrUrl: Raw | undefined, env: NodeJS.ProcessEnv): string {
  if (flagOrUrl) return parseRedisUrl(flagOrUrl);
  const hostRaw = env.REDIS_HOST?.trim();
  const portRaw = env.REDIS_PORT?.trim();
  if (!hostRaw && !portRaw) return DEFAULTS.redisUrl;

  let host = 'localhost';
  if (hostRaw) {
    const bare = hostName(hostRaw);
    if (bare === undefined) throw invalid('redis', { value: hostRaw, env: 'REDIS_HOST' }, 'a hostname or IP address');
    host = bare;
  }
  const port = portRaw ? integer('redis', { value: portRaw, env: 'REDIS_PORT' }, 1, 65535) : 6379;
  return `redis://${urlHost(host)}:${port}`;
}

/**
 * --redis-sentinels `host[:port],…` (IPv6 as `[::1]:26379`; port 26379 when left out) and
 * --redis-master-name. A master name without Sentinels is a mistake, not something to ignore.
 */
function parseSentinels(listRaw: Raw | undefined, nameRaw: Raw | undefined): { sentinels: RedisSentinelAddress[]; masterName: string } {
  const masterName = nameRaw ? matching('redis-master-name', nameRaw, NAME_RE, NAME_RULE) : DEFAULTS.redisMasterName;
  if (!listRaw) {
    if (nameRaw) {
      const from = nameRaw.env ? ` (from ${nameRaw.env})` : '';
      throw new ConfigError(`--redis-master-name${from} needs --redis-sentinels: without Sentinels the broker talks to the --redis server itself`, '--redis-master-name');
    }
    return { sentinels: [], masterName };
  }
  const expected = 'a comma-separated list of Sentinel addresses host:port such as 10.0.0.1:26379,10.0.0.2:26379';
  const entries = listRaw.value.split(',').map((s) => s.trim());
  if (entries.some((e) => e.length === 0)) throw invalid('redis-sentinels', listRaw, expected);
  const sentinels: RedisSentinelAddress[] = [];
  for (const entry of entries) {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(entry);
    const host = m ? hostName(m[1]!) : undefined;
    const port = m?.[2] !== undefined ? Number(m[2]) : DEFAULTS.sentinelPort;
    if (!host || port < 1 || port > 65535) throw invalid('redis-sentinels', listRaw, `${expected} ('${entry}' is not one)`);
    if (sentinels.some((s) => s.host === host && s.port === port)) throw invalid('redis-sentinels', listRaw, `each Sentinel once ('${entry}' is listed twice)`);
    sentinels.push({ host, port });
  }
  return { sentinels, masterName };
}

/** --redis-sentinel-password: only with Sentinels, never empty, and never printed (not even when wrong). */
function parseSentinelPassword(r: Raw | undefined, withSentinels: boolean): string | null {
  if (!r) return null;
  const from = r.env ? ` (from ${r.env})` : '';
  if (!withSentinels) throw new ConfigError(`--redis-sentinel-password${from} needs --redis-sentinels`, '--redis-sentinel-password');
  if (r.value.length === 0) throw new ConfigError(`--redis-sentinel-password${from} is empty: give the Sentinels' password, or leave the flag out`, '--redis-sentinel-password');
  return r.value;
}

/** --allow-origin: `*`, or a comma-separated list of exact origins (`scheme://host[:port]`, no path). */
function parseOrigins(r: Raw): string[] {
  const list = r.value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (list.length === 0) throw invalid('allow-origin', r, "'*' or a comma-separated list of origins such as http://localhost:3000");
  for (const origin of list) {
    if (origin === '*') continue;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw invalid('allow-origin', r, `origins such as http://localhost:3000 ('${origin}' is not one)`);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin) {
      throw invalid('allow-origin', r, `exact origins such as http://localhost:3000, without path or trailing slash ('${origin}' is not one)`);
    }
  }
  return list;
}

/** --allow-host: `*`, or a comma-separated list of host names (no port, no scheme), kept canonical. */
function parseAllowHosts(r: Raw): string[] {
  const list = r.value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (list.length === 0) throw invalid('allow-host', r, "'*' or a comma-separated list of host names such as broker.example.com");
  return list.map((name) => {
    if (name === '*') return name;
    const canonical = canonicalHostName(name);
    if (canonical === null) throw invalid('allow-host', r, `host names such as broker.example.com, without scheme or port ('${name}' is not one)`);
    return canonical;
  });
}

/**
 * The host names the broker answers to besides IP literals and localhost: --allow-host, its
 * advertised URL's host (other brokers and clients call it by that) and its --host when that is a name.
 */
export function answeredHostNames(config: Pick<BrokerConfig, 'allowHosts' | 'advertisedUrl' | 'host'>): string[] {
  return [...config.allowHosts, new URL(config.advertisedUrl).hostname, config.host];
}

/** `broker-<hostname>`, squeezed into the id rule (hostnames may be long or carry odd characters). */
function defaultId(hostname: string): string {
  const safe = hostname.replace(/[^A-Za-z0-9._-]/g, '-');
  return `broker-${safe}`.slice(0, 64);
}

function defaultAdvertisedUrl(host: string, port: number, hostname: string, tlsOn: boolean): string {
  // A wildcard listen address is no address to reach; the machine's name is the best guess.
  const reachable = host === '0.0.0.0' || host === '::' ? hostname : host;
  return `${tlsOn ? 'https' : 'http'}://${urlHost(reachable)}:${port}`;
}
