import https from 'node:https';

/** Plain HTTP calls for tests that assert statuses and bodies exactly (the client would retry). */
export interface Answer<T = any> {
  status: number;
  body: T;
  text: string;
}

export async function call<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  raw?: string,
  timeoutMs = 30_000,
  /** `<principal>:<secret>` for a broker with --auth-file. */
  token?: string,
  /** PEM CA for an https:// broker with a private CA (fetch cannot take one: node:https is used then). */
  ca?: Buffer | string,
): Promise<Answer<T>> {
  const headers: Record<string, string> = body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {};
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  if (ca !== undefined) return httpsCall<T>(new URL(path, baseUrl), method, headers, raw ?? (body === undefined ? undefined : JSON.stringify(body)), timeoutMs, ca);
  const res = await fetch(new URL(path, baseUrl), {
    method,
    headers,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: any = undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON: tests assert on `text` */
  }
  return { status: res.status, body: parsed, text };
}

function httpsCall<T>(url: URL, method: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number, ca: Buffer | string): Promise<Answer<T>> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, ca, agent: false, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('error', reject);
      res.on('end', () => {
        let parsed: any = undefined;
        try {
          parsed = JSON.parse(text);
        } catch {
          /* not JSON: tests assert on `text` */
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, text });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url.href} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export const get = <T = any>(base: string, path: string, timeoutMs?: number, token?: string, ca?: Buffer | string) => call<T>(base, 'GET', path, undefined, undefined, timeoutMs, token, ca);
export const post = <T = any>(base: string, path: string, body: unknown) => call<T>(base, 'POST', path, body);

/**
 * POST /produce to a broker just seen leading, retried while it answers 421 NOT_LEADER (nothing
 * was written then) as a client would: a broker's /health says `leader` from the lease onwards,
 * and its leader replication starts a moment later (longer at load: CI saw 421 right after
 * /health said leader). Any other answer is returned as it is, never retried.
 */
export async function produceToNewLeader<T = any>(baseUrl: string, body: unknown, timeoutMs = 10_000): Promise<Answer<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await call<T>(baseUrl, 'POST', '/produce', body);
    if (answer.status !== 421 || Date.now() > deadline) return answer;
    await new Promise((r) => setTimeout(r, 50));
  }
}
