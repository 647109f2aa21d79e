import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  ConfigError,
  FLAGS,
  answeredHostNames,
  helpText,
  parseConfig,
  type BrokerConfig,
} from '../../broker-runtime/src/config/index.js';
import { makeTestCerts } from '../../testkit/certs.js';
import { defaultNodeId } from '../../broker-runtime/src/config/node-id.js';

const HOST = 'box1';
const certs = makeTestCerts();
after(() => certs.remove());

function config(argv: string[], env: NodeJS.ProcessEnv = {}): BrokerConfig {
  const parsed = parseConfig(argv, env, HOST);
  assert.equal(parsed.kind, 'config');
  if (parsed.kind !== 'config') throw new Error('unreachable');
  return parsed.config;
}

/** Asserts a ConfigError whose one-line message names the flag (and the value, when given). */
function rejects(argv: string[], env: NodeJS.ProcessEnv, flag: string, value?: string): ConfigError {
  let caught: unknown;
  try {
    parseConfig(argv, env, HOST);
  } catch (e) {
    caught = e;
  }
  const label = `${argv.join(' ')} ${JSON.stringify(env)}`;
  assert.ok(caught instanceof ConfigError, `expected a ConfigError for ${label}`);
  assert.ok(caught.message.includes(flag), `"${caught.message}" should name ${flag}`);
  if (value !== undefined) assert.ok(caught.message.includes(value), `"${caught.message}" should show ${value}`);
  assert.ok(!caught.message.includes('\n'), `"${caught.message}" should be one line`);
  return caught;
}

test('defaults follow DESIGN.md', () => {
  assert.deepEqual(config([]), {
    id: 'broker-box1',
    host: '127.0.0.1',
    port: 5001,
    advertisedUrl: 'http://127.0.0.1:5001',
    dataDir: resolve('data', 'broker-box1'),
    redisUrl: 'redis://localhost:6379',
    redisSentinels: [],
    redisMasterName: 'mymaster',
    redisSentinelPassword: null,
    redisWaitReplicas: 0,
    cluster: 'yak',
    leaseMs: 10_000,
    renewMs: 5_000,
    defaultPartitions: 3,
    minInsync: 1,
    replicaLagMs: 10_000,
    uncleanElection: false,
    segmentBytes: 64 * 1024 * 1024,
    retentionMs: 168 * 3_600_000,
    retentionBytes: null,
    retentionCheckMs: 30_000,
    fsync: 'interval',
    fsyncIntervalMs: 1000,
    maxOpenFiles: 512,
    maxGroups: 10_000,
    maxPartitions: 20_000,
    maxGroupMembers: 1000,
    maxMessageBytes: 1_048_576,
    produceTimeoutMs: 30_000,
    logLevel: 'info',
    logFormat: 'text',
    allowOrigins: [],
    allowHosts: [],
    authFile: null,
    insecure: false,
    tls: null,
    tlsCa: null,
    kafkaPort: null,
    kafkaAdvertised: null,
    nodeId: defaultNodeId('broker-box1'),
    kafkaMaxConnections: 256,
    maxConnections: 1024,
    replicationStream: true,
  } satisfies BrokerConfig);
});

test('the default id, data dir and advertised URL follow the id, host and port given', () => {
  const c = config(['--id', 'b7', '--host', '10.0.0.5', '--port', '6000', '--insecure']);
  assert.equal(c.dataDir, resolve('data', 'b7'));
  assert.equal(c.advertisedUrl, 'http://10.0.0.5:6000');
});

test('the default id squeezes an odd or long hostname into the id rule', () => {
  const odd = parseConfig([], {}, 'my host!');
  assert.equal(odd.kind === 'config' && odd.config.id, 'broker-my-host-');
  const long = parseConfig([], {}, 'h'.repeat(100));
  assert.ok(long.kind === 'config' && /^[A-Za-z0-9._-]{1,64}$/.test(long.config.id));
});

test('a wildcard host advertises the hostname; an IPv6 host is bracketed', () => {
  assert.equal(config(['--host', '0.0.0.0', '--insecure']).advertisedUrl, 'http://box1:5001');
  assert.equal(config(['--host', '::', '--auth-file', 'principals.json']).advertisedUrl, 'http://box1:5001');
  const v6 = config(['--host', '[::1]']);
  assert.equal(v6.host, '::1');
  assert.equal(v6.advertisedUrl, 'http://[::1]:5001');
});

test('every flag has an environment twin', () => {
  const c = config([], {
    BROKER_ID: 'env-b',
    YAK_HOST: '0.0.0.0',
    PORT: '5002',
    ADVERTISED_URL: 'https://yak.example.com:8443/',
    DATA_DIR: '/var/lib/yak',
    REDIS_URL: 'rediss://:secret@redis.example.com:6380/2',
    REDIS_SENTINELS: 's1:26380,[::1]',
    REDIS_MASTER_NAME: 'yak-master',
    REDIS_SENTINEL_PASSWORD: 's3cret',
    YAK_REDIS_WAIT_REPLICAS: '2',
    CLUSTER_ID: 'prod',
    LEASE_TIME_SECONDS: '6',
    RENEW_INTERVAL_SECONDS: '2',
    DEFAULT_PARTITIONS: '8',
    MIN_INSYNC_REPLICAS: '2',
    YAK_REPLICA_LAG_SECONDS: '3.5',
    YAK_UNCLEAN_ELECTION: '1',
    YAK_SEGMENT_BYTES: '1048576',
    RETENTION_HOURS: '0.5',
    RETENTION_BYTES: '1000000',
    YAK_RETENTION_CHECK_SECONDS: '2.5',
    YAK_FSYNC: 'always',
    YAK_FSYNC_INTERVAL_MS: '250',
    YAK_MAX_OPEN_FILES: '300',
    YAK_MAX_MESSAGE_BYTES: '2048',
    YAK_PRODUCE_TIMEOUT_SECONDS: '7',
    YAK_LOG_LEVEL: 'debug',
    YAK_LOG_FORMAT: 'json',
    AUTH_FILE: '/etc/yak/principals.json',
    YAK_INSECURE: '0',
    TLS_CERT: certs.serverCert,
    TLS_KEY: certs.serverKey,
    TLS_CA: certs.caCert,
    TLS_CLIENT_AUTH: '1',
  });
  assert.deepEqual(c, {
    id: 'env-b',
    host: '0.0.0.0',
    port: 5002,
    advertisedUrl: 'https://yak.example.com:8443',
    dataDir: '/var/lib/yak',
    redisUrl: 'rediss://:secret@redis.example.com:6380/2',
    redisSentinels: [{ host: 's1', port: 26380 }, { host: '::1', port: 26379 }],
    redisMasterName: 'yak-master',
    redisSentinelPassword: 's3cret',
    redisWaitReplicas: 2,
    cluster: 'prod',
    leaseMs: 6000,
    renewMs: 2000,
    defaultPartitions: 8,
    minInsync: 2,
    replicaLagMs: 3500,
    uncleanElection: true,
    segmentBytes: 1_048_576,
    retentionMs: 1_800_000,
    retentionBytes: 1_000_000,
    retentionCheckMs: 2500,
    fsync: 'always',
    fsyncIntervalMs: 250,
    maxOpenFiles: 300,
    maxGroups: 10_000,
    maxPartitions: 20_000,
    maxGroupMembers: 1000,
    maxMessageBytes: 2048,
    produceTimeoutMs: 7000,
    logLevel: 'debug',
    logFormat: 'json',
    allowOrigins: [],
    allowHosts: [],
    authFile: '/etc/yak/principals.json',
    insecure: false,
    tls: {
      cert: { path: certs.serverCert, pem: readFileSync(certs.serverCert) },
      key: { path: certs.serverKey, pem: readFileSync(certs.serverKey) },
      clientAuth: true,
    },
    tlsCa: { path: certs.caCert, pem: readFileSync(certs.caCert) },
    kafkaPort: null,
    kafkaAdvertised: null,
    nodeId: defaultNodeId('env-b'),
    kafkaMaxConnections: 256,
    maxConnections: 1024,
    replicationStream: true,
  } satisfies BrokerConfig);
});

test('Sentinels: host[:port] list, master name mymaster by default, one replica must acknowledge', () => {
  const c = config(['--redis-sentinels', '10.0.0.1:26379, sentinel-b:26400,sentinel-c']);
  assert.deepEqual(c.redisSentinels, [
    { host: '10.0.0.1', port: 26379 },
    { host: 'sentinel-b', port: 26400 },
    { host: 'sentinel-c', port: 26379 },
  ]);
  assert.equal(c.redisMasterName, 'mymaster');
  assert.equal(c.redisWaitReplicas, 1);
  assert.equal(config(['--redis-sentinels=s:1', '--redis-master-name', 'm2', '--redis-wait-replicas', '0']).redisWaitReplicas, 0);
  assert.equal(config(['--redis-sentinels=s:1', '--redis-master-name', 'm2']).redisMasterName, 'm2');
});

test('bad Sentinel settings are refused, naming the flag and the variable', () => {
  rejects(['--redis-sentinels', 's1:26379,,s2'], {}, '--redis-sentinels');
  rejects(['--redis-sentinels', 's1:0'], {}, '--redis-sentinels', 's1:0');
  rejects(['--redis-sentinels', 's1:70000'], {}, '--redis-sentinels', 's1:70000');
  rejects(['--redis-sentinels', 'bad host:1'], {}, '--redis-sentinels');
  rejects(['--redis-sentinels', 's1:1,s1:1'], {}, '--redis-sentinels', 'twice');
  rejects([], { REDIS_SENTINELS: 'a:b' }, 'REDIS_SENTINELS');
  rejects(['--redis-master-name', 'm'], {}, '--redis-sentinels');
  rejects([], { REDIS_MASTER_NAME: 'm' }, 'REDIS_MASTER_NAME');
  rejects(['--redis-sentinels', 's:1', '--redis-master-name', 'has space'], {}, '--redis-master-name');
  rejects(['--redis-wait-replicas', '17'], {}, '--redis-wait-replicas');
  const noSentinels = rejects([], { REDIS_SENTINEL_PASSWORD: 'hunter2' }, 'REDIS_SENTINEL_PASSWORD');
  assert.ok(!noSentinels.message.includes('hunter2'), 'a password is never printed');
  rejects(['--redis-sentinels', 's:1', '--redis-sentinel-password='], {}, '--redis-sentinel-password');
  rejects([], { YAK_REDIS_WAIT_REPLICAS: '-1' }, 'YAK_REDIS_WAIT_REPLICAS');
});

test('flags win over their environment twins', () => {
  const env = { BROKER_ID: 'env-b', PORT: '5002', LEASE_TIME_SECONDS: '20', FSYNC: 'never', UNCLEAN_ELECTION: 'true' };
  const c = config(['--id', 'flag-b', '--port', '5003', '--lease-seconds', '12', '--fsync', 'always', '--unclean-election=false'], env);
  assert.equal(c.id, 'flag-b');
  assert.equal(c.port, 5003);
  assert.equal(c.leaseMs, 12_000);
  assert.equal(c.fsync, 'always');
  assert.equal(c.uncleanElection, false);
});

test('--flag=value and --flag value mean the same', () => {
  const spaced = config(['--id', 'x', '--port', '6001', '--redis', 'redis://r:1', '--partitions', '5', '--log-level', 'warn']);
  const joined = config(['--id=x', '--port=6001', '--redis=redis://r:1', '--partitions=5', '--log-level=warn']);
  assert.deepEqual(joined, spaced);
});

test('a value may contain "=" and start with a single dash', () => {
  assert.equal(config(['--redis=redis://:a=b@r:1']).redisUrl, 'redis://:a=b@r:1');
  assert.equal(config(['--data-dir', '-odd-dir']).dataDir, resolve('-odd-dir'));
});

test('seconds may be fractional and become whole milliseconds', () => {
  const c = config(['--lease-seconds', '1.5', '--renew-seconds=0.25', '--produce-timeout-seconds', '.75']);
  assert.equal(c.leaseMs, 1500);
  assert.equal(c.renewMs, 250);
  assert.equal(c.produceTimeoutMs, 750);
  assert.equal(c.replicaLagMs, 1500, 'replica lag defaults to the lease');
  assert.equal(config([], { LEASE_TIME_SECONDS: '2.5', RENEW_INTERVAL_SECONDS: '0.5' }).renewMs, 500);
});

test('PORT comes from FLASK_RUN_PORT too; PORT wins over it', () => {
  assert.equal(config([], { FLASK_RUN_PORT: '5050' }).port, 5050);
  assert.equal(config([], { FLASK_RUN_PORT: '5050', PORT: '5060' }).port, 5060);
  assert.equal(config(['--port', '5070'], { FLASK_RUN_PORT: '5050' }).port, 5070);
});

test('Redis comes from REDIS_HOST + REDIS_PORT when REDIS_URL is not set', () => {
  assert.equal(config([], { REDIS_HOST: 'cache', REDIS_PORT: '6390' }).redisUrl, 'redis://cache:6390');
  assert.equal(config([], { REDIS_HOST: 'cache' }).redisUrl, 'redis://cache:6379');
  assert.equal(config([], { REDIS_PORT: '6390' }).redisUrl, 'redis://localhost:6390');
  assert.equal(config([], { REDIS_HOST: '::1', REDIS_PORT: '7000' }).redisUrl, 'redis://[::1]:7000');
  const both = { REDIS_URL: 'redis://url-host:1', REDIS_HOST: 'cache', REDIS_PORT: '6390' };
  assert.equal(config([], both).redisUrl, 'redis://url-host:1');
  assert.equal(config(['--redis', 'redis://flag-host:2'], both).redisUrl, 'redis://flag-host:2');
});

test('empty environment variables count as unset', () => {
  assert.deepEqual(config([], { PORT: '', BROKER_ID: '  ', UNCLEAN_ELECTION: '' }), config([]));
});

test('a relative data dir is made absolute', () => {
  assert.equal(config(['--data-dir', 'here/b1']).dataDir, resolve('here/b1'));
  assert.equal(config([], { DATA_DIR: './d' }).dataDir, resolve('d'));
});

test('--unclean-election is a boolean flag', () => {
  assert.equal(config(['--unclean-election']).uncleanElection, true);
  assert.equal(config(['--unclean-election=true']).uncleanElection, true);
  assert.equal(config(['--unclean-election=0']).uncleanElection, false);
  assert.equal(config(['--no-unclean-election'], { YAK_UNCLEAN_ELECTION: 'true' }).uncleanElection, false);
  assert.equal(config([], { YAK_UNCLEAN_ELECTION: 'true' }).uncleanElection, true);
  assert.equal(config([], { YAK_UNCLEAN_ELECTION: '0' }).uncleanElection, false);
  // It never swallows the next argument.
  assert.equal(config(['--unclean-election', '--port', '6000']).port, 6000);
  const e = rejects(['--unclean-election', 'false'], {}, '--unclean-election');
  assert.match(e.message, /--unclean-election=false/);
});

test('the enums take their allowed values, in any case', () => {
  for (const fsync of ['always', 'interval', 'never'] as const) assert.equal(config(['--fsync', fsync]).fsync, fsync);
  for (const level of ['debug', 'info', 'warn', 'error'] as const) assert.equal(config(['--log-level', level]).logLevel, level);
  assert.equal(config([], { YAK_LOG_LEVEL: 'WARN' }).logLevel, 'warn');
  for (const format of ['text', 'json'] as const) assert.equal(config(['--log-format', format]).logFormat, format);
  assert.equal(config([], { YAK_LOG_FORMAT: 'JSON' }).logFormat, 'json');
  assert.equal(config(['--log-format', 'text'], { YAK_LOG_FORMAT: 'json' }).logFormat, 'text', 'the flag wins');
});

test('the last of a repeated flag wins', () => {
  assert.equal(config(['--port', '6000', '--port=6001']).port, 6001);
});

test('every bad value is a ConfigError naming the flag, the value and what is allowed', () => {
  const cases: [argv: string[], flag: string, value: string, allowed: RegExp][] = [
    [['--id', 'bad id'], '--id', 'bad id', /A-Z a-z 0-9/],
    [['--id', 'x'.repeat(65)], '--id', 'x'.repeat(65), /1-64/],
    [['--host', 'a b'], '--host', 'a b', /IP address or hostname/],
    [['--port', '0'], '--port', '0', /1 to 65535/],
    [['--port', '65536'], '--port', '65536', /1 to 65535/],
    [['--port', 'abc'], '--port', 'abc', /integer/],
    [['--port', '80.5'], '--port', '80.5', /integer/],
    [['--advertised-url', 'ftp://x:1'], '--advertised-url', 'ftp://x:1', /http/],
    [['--advertised-url', 'not a url'], '--advertised-url', 'not a url', /http/],
    [['--redis', 'http://r:6379'], '--redis', 'http://r:6379', /redis:\/\/ or rediss:\/\//],
    [['--redis', 'localhost:6379'], '--redis', 'localhost:6379', /redis:\/\//],
    [['--cluster', 'a:b'], '--cluster', 'a:b', /1-64/],
    [['--lease-seconds', '0'], '--lease-seconds', '0', /> 0/],
    [['--lease-seconds', '-3'], '--lease-seconds', '-3', /> 0/],
    [['--lease-seconds', 'ten'], '--lease-seconds', 'ten', /seconds/],
    [['--renew-seconds', '0'], '--renew-seconds', '0', /> 0/],
    [['--partitions', '0'], '--partitions', '0', /1 to 1000/],
    [['--partitions', '1001'], '--partitions', '1001', /1 to 1000/],
    [['--partitions', '2.5'], '--partitions', '2.5', /integer/],
    [['--min-insync', '0'], '--min-insync', '0', />= 1/],
    [['--replica-lag-seconds', '0'], '--replica-lag-seconds', '0', /> 0/],
    [['--unclean-election=maybe'], '--unclean-election', 'maybe', /true or 1/],
    [['--segment-bytes', '1023'], '--segment-bytes', '1023', /1024/],
    [['--fsync', 'sometimes'], '--fsync', 'sometimes', /always, interval, never/],
    [['--fsync-interval-ms', '0'], '--fsync-interval-ms', '0', /integer from 1/],
    [['--max-open-files', '8'], '--max-open-files', '8', /integer from 16/],
    [['--max-message-bytes', '0'], '--max-message-bytes', '0', /integer from 1/],
    [['--produce-timeout-seconds', '0'], '--produce-timeout-seconds', '0', /> 0/],
    [['--log-level', 'verbose'], '--log-level', 'verbose', /debug, info, warn, error/],
  ];
  for (const [argv, flag, value, allowed] of cases) {
    const e = rejects(argv, {}, flag, value);
    assert.match(e.message, allowed, e.message);
    assert.equal(e.flag, flag);
  }
});

test('a bad value from the environment names the flag and the variable', () => {
  const e = rejects([], { PORT: 'abc' }, '--port', 'abc');
  assert.match(e.message, /PORT/);
  rejects([], { FLASK_RUN_PORT: '99999' }, '--port', '99999');
  rejects([], { LEASE_TIME_SECONDS: 'x' }, '--lease-seconds', 'x');
  const redisPort = rejects([], { REDIS_HOST: 'cache', REDIS_PORT: 'nope' }, '--redis', 'nope');
  assert.match(redisPort.message, /REDIS_PORT/);
  rejects([], { REDIS_HOST: 'bad host' }, '--redis', 'bad host');
  rejects([], { YAK_UNCLEAN_ELECTION: 'perhaps' }, '--unclean-election', 'perhaps');
});

test('renew must be shorter than the lease, and the error says so', () => {
  const e = rejects(['--lease-seconds', '3'], {}, '--renew-seconds');
  assert.match(e.message, /--renew-seconds \(5, the default\) must be less than --lease-seconds \(3\)/);
  rejects(['--lease-seconds', '2', '--renew-seconds', '2'], {}, '--lease-seconds');
  rejects([], { LEASE_TIME_SECONDS: '1', RENEW_INTERVAL_SECONDS: '1.5' }, 'RENEW_INTERVAL_SECONDS');
});

test('a Redis password is not echoed in an error', () => {
  const e = rejects(['--redis', 'http://:hunter2@r:6379'], {}, '--redis');
  assert.ok(!e.message.includes('hunter2'), e.message);
});

test('an unknown flag is an error that points at --help', () => {
  const e = rejects(['--bogus', '1'], {}, '--bogus');
  assert.match(e.message, /^unknown flag --bogus; see --help$/);
  assert.match(rejects(['--prot', '1'], {}, '--prot').message, /did you mean --port\?/);
  rejects(['-p', '1'], {}, '-p');
  rejects(['--port-number=1'], {}, '--port-number');
});

test('a flag missing its value is an error', () => {
  const atEnd = rejects(['--port'], {}, '--port');
  assert.match(atEnd.message, /needs a value/);
  assert.match(rejects(['--id', '--port', '6000'], {}, '--id').message, /needs a value/);
  assert.match(rejects(['--id='], {}, '--id').message, /needs a value/);
});

test('a stray positional argument is an error', () => {
  rejects(['5001'], {}, '"5001"');
});

test('--help and -h return the help text, even next to a bad flag', () => {
  for (const argv of [['--help'], ['-h'], ['--bogus', '--help'], ['--port', 'x', '-h']]) {
    const parsed = parseConfig(argv, {}, HOST);
    assert.equal(parsed.kind, 'help', argv.join(' '));
    assert.equal(parsed.kind === 'help' && parsed.text, helpText());
  }
});

test('--version and -v ask for the version', () => {
  assert.deepEqual(parseConfig(['--version'], {}, HOST), { kind: 'version' });
  assert.deepEqual(parseConfig(['-v'], {}, HOST), { kind: 'version' });
});

test('the help lists every flag with its env twin and default, in aligned columns', () => {
  const text = helpText();
  const lines = text.split('\n');
  const header = lines.find((l) => l.trimStart().startsWith('FLAG'));
  assert.ok(header);
  const envColumn = header.indexOf('ENV');
  const defaultColumn = header.indexOf('DEFAULT');
  for (const f of FLAGS) {
    const line = lines.find((l) => l.trimStart().split(' ')[0] === `--${f.name}`);
    assert.ok(line, `help lists --${f.name}`);
    assert.equal(line.slice(envColumn).startsWith(f.env[0]!), true, `env of --${f.name} in its column`);
    assert.equal(line.slice(defaultColumn).startsWith(f.default), true, `default of --${f.name} in its column`);
  }
  for (const word of ['FLASK_RUN_PORT', 'REDIS_HOST', 'REDIS_PORT', '--help', '--version', 'broker-<hostname>', './data/<id>']) {
    assert.ok(text.includes(word), `help mentions ${word}`);
  }
});

test('protected mode: a non-loopback host without --auth-file is refused, naming --auth-file and --insecure', () => {
  for (const host of ['0.0.0.0', '::', '10.0.0.5', 'box1.example.com']) {
    const err = rejects(['--host', host], {}, '--auth-file', host);
    assert.ok(err.message.includes('--insecure'), err.message);
    assert.equal(err.flag, '--auth-file');
  }
  rejects([], { YAK_HOST: '0.0.0.0' }, '--auth-file', 'YAK_HOST');
});

test('protected mode: loopback hosts, --auth-file, --insecure and YAK_INSECURE all start', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) assert.equal(config(['--host', host]).host, host.replace(/^\[|\]$/g, ''));
  assert.equal(config(['--host', '0.0.0.0', '--auth-file', 'p.json']).authFile, resolve('p.json'));
  assert.equal(config(['--host', '0.0.0.0', '--insecure']).insecure, true);
  assert.equal(config([], { YAK_HOST: '0.0.0.0', YAK_INSECURE: '1' }).insecure, true);
  rejects(['--host', '0.0.0.0', '--insecure=false'], {}, '--auth-file');
});

test('hash-secret is a subcommand that takes no arguments', () => {
  assert.deepEqual(parseConfig(['hash-secret'], {}, HOST), { kind: 'hash-secret' });
  assert.throws(() => parseConfig(['hash-secret', 'topsecret'], {}, HOST), /reads the secret from stdin/);
});

test('TLS: --tls-cert and --tls-key are read at start; the default advertised URL becomes https://', () => {
  const c = config(['--tls-cert', certs.serverCert, '--tls-key', certs.serverKey, '--port', '5443']);
  assert.equal(c.advertisedUrl, 'https://127.0.0.1:5443');
  assert.deepEqual(c.tls?.cert.pem, readFileSync(certs.serverCert));
  assert.equal(c.tls?.clientAuth, false);
  assert.equal(c.tlsCa, null);
  const fromEnv = config([], { TLS_CERT: certs.serverCert, TLS_KEY: certs.serverKey, TLS_CA: certs.caCert, TLS_CLIENT_AUTH: 'true' });
  assert.equal(fromEnv.tls?.clientAuth, true);
  assert.equal(fromEnv.tlsCa?.path, certs.caCert);
});

test('TLS: a certificate without its key, or a key without its certificate, is refused naming the missing flag', () => {
  rejects(['--tls-cert', certs.serverCert], {}, '--tls-key');
  rejects(['--tls-key', certs.serverKey], {}, '--tls-cert');
  rejects([], { TLS_CERT: certs.serverCert }, '--tls-key');
});

test('TLS: a missing, unreadable or unparseable file exits with one line naming its flag and path', () => {
  const garbage = join(certs.dir, 'garbage.pem');
  writeFileSync(garbage, 'not a certificate\n');
  const missing = join(certs.dir, 'missing.pem');
  const e1 = rejects(['--tls-cert', missing, '--tls-key', certs.serverKey], {}, '--tls-cert', missing);
  assert.match(e1.message, /cannot be read/);
  rejects(['--tls-cert', garbage, '--tls-key', certs.serverKey], {}, '--tls-cert', garbage);
  rejects(['--tls-cert', certs.serverKey, '--tls-key', certs.serverKey], {}, '--tls-cert', certs.serverKey);
  rejects(['--tls-cert', certs.serverCert, '--tls-key', garbage], {}, '--tls-key', garbage);
  rejects(['--tls-cert', certs.serverCert, '--tls-key', certs.serverCert], {}, '--tls-key');
  rejects(['--tls-cert', certs.serverCert, '--tls-key', certs.serverKey, '--tls-ca', garbage], {}, '--tls-ca', garbage);
  rejects(['--tls-cert', certs.serverCert, '--tls-key', certs.serverKey, '--tls-ca', missing], {}, '--tls-ca', missing);
  rejects([], { TLS_CERT: garbage, TLS_KEY: certs.serverKey }, 'TLS_CERT');
});

test('TLS: a key that belongs to another certificate is refused at start', () => {
  const e = rejects(['--tls-cert', certs.serverCert, '--tls-key', certs.clientKey], {}, '--tls-cert', certs.serverCert);
  assert.match(e.message, /does not go with --tls-key/);
});

test('TLS: --tls-client-auth needs --tls-ca (and a certificate to serve)', () => {
  rejects(['--tls-cert', certs.serverCert, '--tls-key', certs.serverKey, '--tls-client-auth'], {}, '--tls-ca');
  rejects(['--tls-ca', certs.caCert, '--tls-client-auth'], {}, '--tls-cert');
  const c = config(['--tls-cert', certs.serverCert, '--tls-key', certs.serverKey, '--tls-ca', certs.caCert, '--tls-client-auth']);
  assert.equal(c.tls?.clientAuth, true);
});

test('TLS: --tls-ca alone (plain brokers, rediss:// Redis with a private CA) is accepted', () => {
  const c = config(['--tls-ca', certs.caCert, '--redis', 'rediss://:secret@127.0.0.1:6380']);
  assert.equal(c.tls, null);
  assert.equal(c.tlsCa?.path, certs.caCert);
  assert.equal(c.advertisedUrl, 'http://127.0.0.1:5001');
});

test('TLS: an https:// advertised URL without --tls-cert, or http:// with it, is a config error', () => {
  const e1 = rejects(['--advertised-url', 'https://yak.example.com:8443'], {}, '--advertised-url', 'https://yak.example.com:8443');
  assert.match(e1.message, /--tls-cert/);
  const e2 = rejects(['--advertised-url', 'http://127.0.0.1:5001', '--tls-cert', certs.serverCert, '--tls-key', certs.serverKey], {}, '--advertised-url');
  assert.match(e2.message, /https/);
  rejects([], { ADVERTISED_URL: 'https://x:1' }, 'ADVERTISED_URL');
  const ok = config(['--advertised-url', 'https://localhost:5443', '--tls-cert', certs.serverCert, '--tls-key', certs.serverKey]);
  assert.equal(ok.advertisedUrl, 'https://localhost:5443');
});

test('TLS: the help lists the TLS flags with their environment twins', () => {
  const help = helpText();
  for (const [flag, env] of [['--tls-cert PATH', 'TLS_CERT'], ['--tls-key PATH', 'TLS_KEY'], ['--tls-ca PATH', 'TLS_CA'], ['--tls-client-auth', 'TLS_CLIENT_AUTH']] as const) {
    assert.match(help, new RegExp(`${flag}\\s+${env}\\s`));
  }
});

test('generic environment names are not read: a shell HOST (zsh sets it) or LOG_LEVEL leave the broker alone', () => {
  const c = config([], { HOST: 'devbox.example', LOG_LEVEL: 'nonsense', FSYNC: 'sometimes', SEGMENT_BYTES: 'x' });
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.logLevel, 'info');
  assert.equal(c.fsync, 'interval');
});

test('YAK_DATA_DIR and YAK_ADVERTISED_URL win over DATA_DIR and ADVERTISED_URL, which are still read', () => {
  assert.equal(config([], { DATA_DIR: '/a' }).dataDir, '/a');
  assert.equal(config([], { DATA_DIR: '/a', YAK_DATA_DIR: '/b' }).dataDir, '/b');
  assert.equal(config([], { ADVERTISED_URL: 'http://a:1', YAK_ADVERTISED_URL: 'http://b:2' }).advertisedUrl, 'http://b:2');
});

test('a configuration error from the environment names the flag and the variable', () => {
  const e = rejects([], { YAK_FSYNC: 'sometimes' }, '--fsync');
  assert.match(e.message, /YAK_FSYNC/);
});

test('--help fits in 100 columns', () => {
  for (const line of helpText().split('\n')) assert.ok(line.length <= 100, `${line.length}: ${line}`);
});

test('--retention-hours and --retention-bytes take -1 for unlimited and refuse anything else that is not positive', () => {
  const parse = (argv: string[]) => {
    const r = parseConfig(argv, {}, 'box1');
    assert.equal(r.kind, 'config');
    return (r as { config: BrokerConfig }).config;
  };
  assert.equal(parse(['--retention-hours', '-1']).retentionMs, null);
  assert.equal(parse(['--retention-bytes', '-1']).retentionBytes, null);
  assert.equal(parse(['--retention-hours', '2000']).retentionMs, 2000 * 3_600_000);
  for (const bad of ['0', '-2', 'abc', '1e3']) assert.throws(() => parse(['--retention-hours', bad]), /--retention-hours/);
  for (const bad of ['0', '-5', '1.5']) assert.throws(() => parse(['--retention-bytes', bad]), /--retention-bytes/);
});

test('--kafka-port turns the Kafka listener on; it advertises the advertised URL\'s host unless --kafka-advertised says otherwise', () => {
  const c = config(['--kafka-port', '9092', '--advertised-url', 'http://yak.example.com:5001']);
  assert.equal(c.kafkaPort, 9092);
  assert.deepEqual(c.kafkaAdvertised, { host: 'yak.example.com', port: 9092 });
  assert.equal(c.nodeId, defaultNodeId('broker-box1'));
  const d = config(['--kafka-port', '9092', '--kafka-advertised', '[::1]:19092', '--node-id', '7']);
  assert.deepEqual(d.kafkaAdvertised, { host: '::1', port: 19092 });
  assert.equal(d.nodeId, 7);
  assert.equal(config([], { KAFKA_PORT: '9093', NODE_ID: '3' }).kafkaPort, 9093);
  assert.equal(c.kafkaMaxConnections, 256);
  assert.equal(config(['--kafka-port', '9092', '--kafka-max-connections', '10']).kafkaMaxConnections, 10);
  assert.equal(config([], { KAFKA_PORT: '9093', KAFKA_MAX_CONNECTIONS: '1000' }).kafkaMaxConnections, 1000);
});

test('--max-connections caps HTTP connections (1024 unless set, flag or YAK_MAX_CONNECTIONS); a bad value stops the start naming it', () => {
  assert.equal(config([]).maxConnections, 1024);
  assert.equal(config(['--max-connections', '16']).maxConnections, 16);
  assert.equal(config([], { YAK_MAX_CONNECTIONS: '4096' }).maxConnections, 4096);
  assert.equal(config(['--max-connections', '8'], { YAK_MAX_CONNECTIONS: '4096' }).maxConnections, 8);
  rejects(['--max-connections', '0'], {}, '--max-connections');
  rejects(['--max-connections', 'lots'], {}, '--max-connections');
  rejects([], { YAK_MAX_CONNECTIONS: '-3' }, 'YAK_MAX_CONNECTIONS');
});

test('--replication-stream is on unless turned off (flag or YAK_REPLICATION_STREAM); anything else stops the start naming it', () => {
  assert.equal(config([]).replicationStream, true);
  assert.equal(config(['--replication-stream', 'off']).replicationStream, false);
  assert.equal(config([], { YAK_REPLICATION_STREAM: '0' }).replicationStream, false);
  assert.equal(config(['--replication-stream', 'on']).replicationStream, true);
  rejects(['--replication-stream', 'sometimes'], {}, '--replication-stream');
});

test('a bad Kafka flag stops the start naming it', () => {
  rejects(['--kafka-port', '70000'], {}, '--kafka-port');
  rejects(['--kafka-port', '5001'], {}, '--kafka-port');
  rejects(['--kafka-advertised', 'h:1'], {}, '--kafka-advertised');
  rejects(['--kafka-port', '9092', '--kafka-advertised', 'no-port'], {}, '--kafka-advertised');
  rejects(['--node-id', '-1'], {}, '--node-id');
  rejects(['--kafka-port', '9092', '--kafka-max-connections', '0'], {}, '--kafka-max-connections');
  rejects(['--kafka-port', '9092', '--kafka-max-connections', 'lots'], {}, '--kafka-max-connections');
  rejects(['--kafka-max-connections', '10'], {}, '--kafka-max-connections');
});

test('the default node id is stable and positive', () => {
  assert.equal(defaultNodeId('b1'), defaultNodeId('b1'));
  assert.notEqual(defaultNodeId('b1'), defaultNodeId('b2'));
  for (const id of ['a', 'broker-box1', 'x'.repeat(64)]) assert.ok(defaultNodeId(id) > 0 && defaultNodeId(id) <= 0x3fffffff);
});

test('--allow-host takes host names (kept in lower-case punycode, trailing dot dropped) or *, from the flag or YAK_ALLOW_HOST; anything else stops the start naming it', () => {
  assert.deepEqual(config([]).allowHosts, []);
  assert.deepEqual(config(['--allow-host', 'B1, yak.example.com.,Bücher.example']).allowHosts, ['b1', 'yak.example.com', 'xn--bcher-kva.example']);
  assert.deepEqual(config([], { YAK_ALLOW_HOST: '*' }).allowHosts, ['*']);
  assert.deepEqual(config(['--allow-host', 'a'], { YAK_ALLOW_HOST: 'b' }).allowHosts, ['a']);
  for (const bad of ['http://b1', 'b1:5001', 'b1/x', '[::1]', ',', 'a b']) rejects(['--allow-host', bad], {}, '--allow-host');
  rejects([], { YAK_ALLOW_HOST: 'x:1' }, 'YAK_ALLOW_HOST');
});

test('the broker answers its --allow-host names, its advertised host and a named --host', () => {
  assert.deepEqual(answeredHostNames(config(['--allow-host', 'ops', '--advertised-url', 'http://b1.internal:5001'])), ['ops', 'b1.internal', '127.0.0.1']);
  // A wildcard --host advertises the machine's name (box1 here), which is answered then.
  assert.deepEqual(answeredHostNames(config(['--host', '0.0.0.0', '--insecure'])), ['box1', '0.0.0.0']);
});
