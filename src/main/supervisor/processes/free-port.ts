import { createServer } from 'node:net';

/**
 * A loopback port nobody listens on right now. The OS picks it; `taken` keeps the ports already
 * handed to this cluster out, since a process we just spawned may not be listening yet.
 */
export async function freePort(taken: ReadonlySet<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.unref();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const port = typeof address === 'object' && address ? address.port : 0;
        server.close(() => resolve(port));
      });
    });
    if (port > 0 && !taken.has(port)) return port;
  }
  throw new Error('could not find a free loopback port');
}
