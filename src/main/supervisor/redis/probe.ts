import { connect } from 'node:net';

/**
 * Whether a Redis server answers at this URL: one PING over a fresh connection. Any RESP reply
 * counts, even -NOAUTH: the server is there, and authenticating is the brokers' business.
 */
export function pingRedis(redisUrl: string, timeoutMs = 500): Promise<boolean> {
  let url: URL;
  try {
    url = new URL(redisUrl);
  } catch {
    return Promise.resolve(false);
  }
  if (url.protocol === 'rediss:') return Promise.resolve(true); // TLS: not probed here, assume up.
  const port = Number(url.port || 6379);
  const host = url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(/^[+-]/.test(data.toString('latin1'))));
    socket.once('error', () => done(false));
  });
}

/** Polls until Redis answers or the time is up. */
export async function waitForRedis(redisUrl: string, timeoutMs: number, isAlive: () => boolean = () => true): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && isAlive()) {
    if (await pingRedis(redisUrl, 300)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
