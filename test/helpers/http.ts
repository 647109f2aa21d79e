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
): Promise<Answer<T>> {
  const headers: Record<string, string> = body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {};
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
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

export const get = <T = any>(base: string, path: string, timeoutMs?: number, token?: string) => call<T>(base, 'GET', path, undefined, undefined, timeoutMs, token);
export const post = <T = any>(base: string, path: string, body: unknown) => call<T>(base, 'POST', path, body);
