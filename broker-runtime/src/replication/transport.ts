import http from 'node:http';

/**
 * One keep-alive connection pool per follower URL, raw bytes in and out: replication never goes
 * through JSON bodies or express.
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

export class TransportError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

export function postFrame(baseUrl: string, path: string, body: Buffer, timeoutMs: number, extraHeaders: Record<string, string> = {}): Promise<Buffer> {
  const url = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { ...extraHeaders, 'content-type': 'application/octet-stream', 'content-length': body.length },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          if (res.statusCode === 200) resolve(buf);
          else reject(new TransportError(`HTTP ${res.statusCode}: ${buf.toString('utf8').slice(0, 200)}`, res.statusCode));
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new TransportError(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
