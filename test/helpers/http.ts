/** Plain HTTP calls for tests that assert statuses and bodies exactly (the client would retry). */
export interface Answer<T = any> {
  status: number;
  body: T;
  text: string;
}

export async function call<T = any>(baseUrl: string, method: string, path: string, body?: unknown, raw?: string, timeoutMs = 30_000): Promise<Answer<T>> {
  const res = await fetch(new URL(path, baseUrl), {
    method,
    headers: body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {},
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

export const get = <T = any>(base: string, path: string, timeoutMs?: number) => call<T>(base, 'GET', path, undefined, undefined, timeoutMs);
export const post = <T = any>(base: string, path: string, body: unknown) => call<T>(base, 'POST', path, body);
