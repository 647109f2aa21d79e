/**
 * `npm run web`: the supervisor and the same Vue UI in a browser, on 127.0.0.1 only.
 * YAK_WEB_PORT (default 5170; 0 picks a free one), YAK_DATA_DIR (default ./.yak),
 * YAK_AUTOSTART=0 to serve without starting the cluster.
 */
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installShutdownHooks, Supervisor } from './supervisor/index.js';
import { createWebApp } from './web/app.js';

const DEFAULT_PORT = 5170;

function webPort(): number {
  const raw = process.env['YAK_WEB_PORT'];
  if (raw === undefined || raw === '') return DEFAULT_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`yak web: YAK_WEB_PORT must be a port number 0-65535, got '${raw}'`);
    process.exit(2);
  }
  return port;
}

async function main(): Promise<void> {
  const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
  const dataDir = resolve(process.env['YAK_DATA_DIR'] || '.yak');
  const supervisor = await Supervisor.create({ dataDir, log: (line) => console.log(line) });
  let port = webPort();
  const app = createWebApp({ api: supervisor, rendererDir: resolve(repoRoot, 'out', 'renderer'), port: () => port });
  const server = app.listen(port, '127.0.0.1');
  // Idle keep-alive connections are left for the client to close. With node's 5 s default, a call
  // sent on a connection idle for just about 5 s met the server closing it: ECONNRESET (the
  // Playwright suite's brokerAction after a 5 s wait, CI 2026-11-29). Clients (browsers, Playwright)
  // close theirs sooner; headersTimeout must stay above keepAliveTimeout.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const hooks = installShutdownHooks({
    shutdown: async () => {
      await supervisor.shutdown();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
    killAllNow: () => supervisor.killAllNow(),
  });
  await new Promise<void>((ok, fail) => {
    server.once('listening', ok);
    server.once('error', fail);
  }).catch((err: NodeJS.ErrnoException) => {
    const why = err.code === 'EADDRINUSE' ? `port ${port} is in use (set YAK_WEB_PORT to another port)` : err.message;
    console.error(`yak web: cannot listen on 127.0.0.1:${port}: ${why}`);
    hooks.dispose();
    process.exit(1);
  });
  port = (server.address() as AddressInfo).port;
  console.log(`YAK web UI: http://127.0.0.1:${port}  (data in ${dataDir}; Ctrl+C stops the cluster)`);
  if (process.env['YAK_AUTOSTART'] !== '0') {
    supervisor.startCluster().catch((err: unknown) => {
      console.error(`[yak] the cluster did not start: ${err instanceof Error ? err.message : String(err)}`);
    });
  }
}

main().catch((err: unknown) => {
  console.error(`yak web: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
