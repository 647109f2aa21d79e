import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A tiny scripted broker: `answer` decides each response; every request is recorded. */
export type Answer = (req: { method: string; path: string; query: URLSearchParams; body: unknown }) => [number, unknown] | Promise<[number, unknown]>;

export interface StubBroker {
  url: string;
  hits: { method: string; path: string; query: URLSearchParams; body: unknown }[];
  close(): Promise<void>;
}

export async function stubBroker(answer: Answer, port = 0): Promise<StubBroker> {
  const hits: StubBroker['hits'] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', async () => {
      const [path = '/', query = ''] = (req.url ?? '/').split('?');
      const hit = { method: req.method ?? 'GET', path, query: new URLSearchParams(query), body: text ? (JSON.parse(text) as unknown) : undefined };
      hits.push(hit);
      const [status, body] = await answer(hit);
      const out = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port that nothing listens on (free at the time of asking). */
export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const leaderAnswer = (url: string, id = 'b1', epoch = 1): [number, unknown] => [200, { leader: { id, url }, epoch }];
