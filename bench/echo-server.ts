import { ChildServer } from './child-server.js';

/**
 * The ceiling of a node:http service on this machine: a process that reads each request's body
 * and answers it back (200, application/json), nothing else. Measured with the same client and
 * the same 32 connections as single produce, it shows how much of what node:http can do at all
 * the broker reaches (the broker parses, appends, replicates to two followers, waits for them).
 * Its own process, like a broker, so it does not share the bench's event loop.
 */
export const ECHO_SERVER_SOURCE = `
const http = require('node:http');
const server = http.createServer({ keepAliveTimeout: 65000, noDelay: true }, (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.on('SIGTERM', () => process.exit(0));
`;

export class EchoServer {
  private constructor(private readonly server: ChildServer) {}

  get url(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  get pid(): number | undefined {
    return this.server.pid;
  }

  static async start(): Promise<EchoServer> {
    return new EchoServer(await ChildServer.start('the echo server', ['-e', ECHO_SERVER_SOURCE]));
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}
