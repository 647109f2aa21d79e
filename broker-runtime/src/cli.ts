import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { Broker } from './broker/broker.js';
import { ConfigError, parseConfig, type BrokerConfig } from './config/index.js';
import { BrokerState } from './election/broker-state.js';
import { createBrokerServer } from './http/index.js';
import { openLogManager } from './log/log-manager.js';
import { createLogger, type Logger } from './logger.js';

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
    config = parsed.config;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`yak-broker: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.id, config.logLevel);
  await run(config, log);
}

async function run(config: BrokerConfig, log: Logger): Promise<void> {
  log('info', `starting: data ${config.dataDir}, redis ${redactUrl(config.redisUrl)}, cluster ${config.cluster}, lease ${config.leaseMs} ms, renew ${config.renewMs} ms, fsync ${config.fsync}`);
  const logs = await openLogManager(config.dataDir, {
    segmentBytes: config.segmentBytes,
    indexIntervalBytes: 4096,
    fsync: config.fsync,
    fsyncIntervalMs: config.fsyncIntervalMs,
    logger: (line) => log('info', line),
  });
  const state = await BrokerState.open(config.dataDir);
  for (const repair of state.repairs) log('warn', `broker state: ${repair}`);
  const broker = new Broker(config, logs, state, log);
  const server = createBrokerServer(broker, {
    maxMessageBytes: config.maxMessageBytes,
    allowedOrigins: config.allowOrigins,
    logger: (line) => log('error', line),
  });
  await listen(server, config);
  log('info', `listening on http://${config.host}:${config.port} (advertised ${config.advertisedUrl})`);
  broker.start();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log('info', `${signal}: stopping`);
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    await broker.stop().catch((err) => log('warn', `stop: ${(err as Error).message}`));
    server.closeIdleConnections?.();
    server.close();
    await logs.close().catch((err) => log('warn', `closing logs: ${(err as Error).message}`));
    log('info', 'stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

function listen(server: Server, config: BrokerConfig): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new Error(`port ${config.port} on ${config.host} is already in use (--port)`));
      else reject(err);
    });
    server.listen(config.port, config.host, () => resolve());
  });
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
