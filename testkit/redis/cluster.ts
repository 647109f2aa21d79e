import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { freePort } from '../ports.js';
import { waitFor } from '../wait.js';
import { RedisServer } from './server.js';
import { probe } from './sentinel.js';

/** A free port whose cluster bus port (port + 10000) is free and valid too. */
async function freeClusterPort(): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (p + 10000 <= 65535 && (await portFree(p + 10000))) return p;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A real Redis Cluster for integration tests: `masters` redis-server processes with
 * --cluster-enabled yes on free loopback ports, joined by `redis-cli --cluster create`, no replicas.
 */
export class RedisClusterWorld {
  private constructor(readonly servers: RedisServer[]) {}

  static async start(masters = 3): Promise<RedisClusterWorld> {
    const servers: RedisServer[] = [];
    const world = new RedisClusterWorld(servers);
    try {
      for (let i = 0; i < masters; i++) {
        servers.push(await RedisServer.start({ extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000'] }, await freeClusterPort()));
      }
      const create = spawnSync('redis-cli', ['--cluster', 'create', ...servers.map((s) => `127.0.0.1:${s.port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
      if (create.status !== 0) throw new Error(`redis-cli --cluster create failed (${create.status}): ${create.stdout}${create.stderr}`);
      for (const s of servers) {
        await waitFor(`cluster_state:ok on ${s.port}`, async () => {
          const r = await probe(s.port);
          try {
            return String(await r.call('CLUSTER', 'INFO')).includes('cluster_state:ok');
          } finally {
            r.disconnect();
          }
        }, 20_000, 100);
      }
    } catch (err) {
      await world.stop();
      throw err;
    }
    return world;
  }

  nodes(): { host: string; port: number }[] {
    return this.servers.map((s) => ({ host: '127.0.0.1', port: s.port }));
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
  }
}
