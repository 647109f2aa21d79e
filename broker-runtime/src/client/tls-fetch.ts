import https from 'node:https';

/** PEM text or bytes; a list for several (a CA bundle split in parts). */
type Pem = string | Buffer | (string | Buffer)[];

/** TLS settings of the client, for brokers started with --tls-cert (docs/security.md, "TLS"). */
export interface ClientTlsOptions {
  /** CAs to trust instead of the system ones: the cluster's CA (the broker's --tls-ca) for private certificates. */
  ca?: Pem;
  /** Client certificate and its key, for brokers started with --tls-client-auth (mutual TLS). */
  cert?: Pem;
  key?: Pem;
}

/** The part of fetch the client uses. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal },
) => Promise<{ status: number; headers: { get(name: string): string | null }; text(): Promise<string> }>;

/**
 * fetch with the client's own CA and client certificate for https:// URLs. Node's global fetch
 * takes no TLS options (its undici Agent is not public in Node 20), so https:// goes through
 * node:https with one keep-alive pool; http:// URLs keep using fetch. Failures look like fetch's
 * (a TypeError whose `cause` is the socket or certificate error; the signal's reason on abort),
 * so errorFromFetch reads both the same way.
 */
export function tlsFetch(tls: ClientTlsOptions): FetchLike {
  const agent = new https.Agent({ keepAlive: true, ...tls });
  return (url, init) => {
    if (!url.startsWith('https:')) return fetch(url, init);
    const { signal } = init;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        req.destroy();
        reject(signal.reason);
      };
      const req = https.request(url, { method: init.method, headers: init.body === undefined ? init.headers : { ...init.headers, 'content-length': Buffer.byteLength(init.body) }, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          signal.removeEventListener('abort', onAbort);
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: { get: (name) => headerValue(res.headers[name.toLowerCase()]) },
            text: () => Promise.resolve(text),
          });
        });
        res.on('error', (err) => fail(err));
      });
      const fail = (err: Error) => {
        signal.removeEventListener('abort', onAbort);
        reject(new TypeError('fetch failed', { cause: err }));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('error', (err) => {
        if (!signal.aborted) fail(err);
      });
      req.end(init.body);
    });
  };
}

function headerValue(v: string | string[] | undefined): string | null {
  if (v === undefined) return null;
  return Array.isArray(v) ? v.join(', ') : v;
}
