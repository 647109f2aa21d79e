import { readFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { AuthFileError, AuthGate, hashSecret, loadAuthFile, OPEN_GATE, type Gate } from './auth/index.js';
import { reloadOnSighup } from './auth/reload.js';
import { Broker } from './broker/broker.js';
import { ConfigError, answeredHostNames, isLoopback, parseConfig, serverTlsOptions, type BrokerConfig } from './config/index.js';
import { BrokerState } from './election/broker-state.js';
import { createBrokerServer, type RequestLogEntry } from './http/index.js';
import { FileHandleCache } from './log/file-handle-cache.js';
import { openLogManager } from './log/log-manager.js';
import { StorageHealth } from './log/storage-health.js';
import { createLogger, type Logger } from './logger.js';
import { kafkaAuth } from './kafka/auth.js';
import { createKafkaServer, type KafkaListener } from './kafka/index.js';
import type { TlsOptions } from 'node:tls';
import { describeRedis, redisTarget } from './redis/connect.js';

/**
 * `yak-broker`: parse the configuration once, recover the logs, serve HTTP (so replication and
 * reads work before the election settles), then join the election. SIGTERM/SIGINT stop cleanly:
 * the lease is released at once so another broker takes over without waiting for it to expire.
 */
export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  let config: BrokerConfig;
  try {
    const parsed = parseConfig(argv, env);
    if (parsed.kind === 'help') {
      process.stdout.write(parsed.text.endsWith('\n') ? parsed.text : parsed.text + '\n');
      return;
    }
    if (parsed.kind === 'version') {
      process.stdout.write(`yak-broker ${packageVersion()}\n`);
      return;
    }
    if (parsed.kind === 'hash-secret') {
      await printSecretHash();
      return;
    }
    config = parsed.config;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`yak-broker: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.id, config.logLevel, undefined, config.logFormat);
  await run(config, log, await openGate(config));
}

/** The client gate: open without --auth-file; a file that does not load stops the start (exit 2, one line). */
async function openGate(config: BrokerConfig): Promise<Gate> {
  if (config.authFile === null) return OPEN_GATE;
  try {
    return new AuthGate(await loadAuthFile(config.authFile));
  } catch (err) {
    if (!(err instanceof AuthFileError)) throw err;
    fatal(config, `--auth-file ${config.authFile} ${err.message}`);
  }
}

/** `yak-broker hash-secret`: the secret from stdin (one trailing newline dropped), its hash on stdout. */
async function printSecretHash(): Promise<void> {
  if (process.stdin.isTTY) process.stderr.write('type the secret, then Enter and Ctrl-D:\n');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const secret = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (secret.length === 0) {
    process.stderr.write('yak-broker: hash-secret read an empty secret from stdin\n');
    process.exit(2);
  }
  process.stdout.write(`${await hashSecret(secret)}\n`);
}

async function run(config: BrokerConfig, log: Logger, gate: Gate): Promise<void> {
  log('info', `starting: data ${config.dataDir}, redis ${describeRedis(redisTarget(config, {}))}, cluster ${config.cluster}, lease ${config.leaseMs} ms, renew ${config.renewMs} ms, fsync ${config.fsync}`, 'broker.starting', {
    data_dir: config.dataDir,
    redis: describeRedis(redisTarget(config, {})),
    cluster: config.cluster,
    lease_ms: config.leaseMs,
    renew_ms: config.renewMs,
    fsync: config.fsync,
  });
  const storage = new StorageHealth({ log });
  const logs = await openLogManager(config.dataDir, {
    segmentBytes: config.segmentBytes,
    indexIntervalBytes: 4096,
    fsync: config.fsync,
    fsyncIntervalMs: config.fsyncIntervalMs,
    logger: (line, level) => log(level ?? 'info', line),
    storage,
    files: new FileHandleCache(config.maxOpenFiles),
  });
  const state = await BrokerState.open(config.dataDir);
  for (const repair of state.repairs) log('warn', `broker state: ${repair}`);
  const broker = new Broker(config, logs, state, log, storage);
  const tls = serverTlsOptions(config);
  const server = createBrokerServer(broker, {
    maxMessageBytes: config.maxMessageBytes,
    allowedOrigins: config.allowOrigins,
    allowedHosts: answeredHostNames(config),
    replicationStreams: config.replicationStream,
    logger: (line) => log('error', line, 'http.error'),
    maxConnections: config.maxConnections,
    warn: (line, event, fields) => log('warn', line, event, fields),
    onRefused: (reason) => broker.stats.httpRefused.labels({ reason }).inc(),
    gate,
    ...(config.logLevel === 'debug'
      ? { requestLog: (e: RequestLogEntry) => log('debug', `${e.method} ${e.path} ${e.status}${e.aborted ? ' (aborted)' : ''} ${e.duration_ms} ms ${e.remote}`, 'http.request', { ...e }) }
      : {}),
    ...(tls ? { tls } : {}),
  });
  if (gate instanceof AuthGate) {
    log('info', `clients need a token: --auth-file ${config.authFile} has ${gate.principalCount} principal(s); SIGHUP reloads it`);
    reloadOnSighup(gate, config.authFile!, log);
  } else if (config.insecure && !isLoopback(config.host)) {
    log('warn', `--insecure: listening on ${config.host} without --auth-file: anyone who can reach this port can read and write every topic`);
  }
  await listen(server, config);
  const scheme = config.tls ? 'https' : 'http';
  log('info', `listening on ${scheme}://${config.host}:${config.port} (advertised ${config.advertisedUrl})${tlsSummary(config)}`, 'broker.listening', {
    url: `${scheme}://${config.host}:${config.port}`,
    advertised_url: config.advertisedUrl,
  });
  const kafka = config.kafkaPort === null ? null : await startKafka(config, broker, gate, log, tls ?? undefined);
  const duplicate = await broker.liveDuplicate();
  if (duplicate) fatal(config, duplicate);
  const otherCluster = await broker.otherCluster();
  if (otherCluster) fatal(config, otherCluster);
  broker.onFatal = (line) => fatal(config, line);
  broker.start();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log('info', `${signal}: stopping`, 'broker.stopping', { signal });
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    await broker.stop().catch((err) => log('warn', `stop: ${(err as Error).message}`));
    server.closeIdleConnections?.();
    server.close();
    kafka?.close();
    await logs.close().catch((err) => log('warn', `closing logs: ${(err as Error).message}`));
    log('info', 'stopped', 'broker.stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** The Kafka listener on --host:--kafka-port, with the same principals (SASL/PLAIN) and certificate as REST. */
async function startKafka(config: BrokerConfig, broker: Broker, gate: Gate, log: Logger, tls: TlsOptions | undefined): Promise<KafkaListener> {
  const listener = createKafkaServer({
    backend: broker.kafkaBackend(),
    auth: gate instanceof AuthGate ? kafkaAuth(gate) : null,
    log,
    maxConnections: config.kafkaMaxConnections,
    ...(tls ? { tls } : {}),
  });
  await listen(listener.server, { ...config, port: config.kafkaPort! }, '--kafka-port / KAFKA_PORT');
  const adv = config.kafkaAdvertised!;
  log('info', `Kafka listener on ${config.host}:${config.kafkaPort}${tls ? ' (TLS)' : ''}, advertised ${adv.host}:${adv.port}, node id ${config.nodeId}${gate instanceof AuthGate ? ', SASL/PLAIN required' : ''}`, 'kafka.listening', {
    port: config.kafkaPort,
    advertised: `${adv.host}:${adv.port}`,
    node_id: config.nodeId,
  });
  return listener;
}

function listen(server: Server, config: BrokerConfig, portFlag = '--port / PORT'): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      // Exit 2 like every configuration error, naming the flags and their variables: a host name
      // that does not resolve (a stray variable, a typo) must not look like a crash.
      const where = `${config.host}:${config.port} (--host / YAK_HOST, ${portFlag})`;
      const why =
        err.code === 'EADDRINUSE' ? `port ${config.port} on ${config.host} is already in use (${portFlag}): stop what listens there (another broker? \`ss -ltnp\` names it) or give another port`
        : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' ? `cannot listen on ${where}: the host name ${config.host} does not resolve`
        : err.code === 'EADDRNOTAVAIL' ? `cannot listen on ${where}: ${config.host} is not an address of this machine`
        : err.code === 'EACCES' ? `cannot listen on ${where}: permission denied (ports below 1024 need privileges)`
        : null;
      if (why === null) return reject(err);
      fatal(config, why);
    });
    server.listen(config.port, config.host, () => resolve());
  });
}

/**
 * A start-up problem once the configuration is known: one line, exit 2. Under --log-format json
 * that line is a JSON object too (event broker.fatal), so every line of the run still parses.
 */
function fatal(config: BrokerConfig, line: string): never {
  if (config.logFormat === 'json') createLogger(config.id, 'error', undefined, 'json')('error', `yak-broker: ${line}`, 'broker.fatal');
  else process.stderr.write(`yak-broker: ${line}\n`);
  process.exit(2);
}

/** What the TLS setup is, for the start line: the files, never their contents. */
function tlsSummary(config: BrokerConfig): string {
  if (!config.tls) return config.tlsCa ? `; trusting CAs in ${config.tlsCa.path}` : '';
  const ca = config.tlsCa ? `, CAs ${config.tlsCa.path}` : ', system CAs';
  const mutual = config.tls.clientAuth ? ', client certificates required' : '';
  return `; TLS: certificate ${config.tls.cert.path}${ca}${mutual}`;
}


function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
