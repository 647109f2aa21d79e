/**
 * GET a broker's JSON with a short timeout. The poller never waits long on one broker: a paused
 * or dying process must not hold up the picture of the others.
 */
export async function getJson(url: string, timeoutMs: number, token: string | null = null): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers['authorization'] = `Bearer ${token}`;
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`${url} answered ${res.status}`);
  }
  return (await res.json()) as unknown;
}

/** The value, or null when the request failed for any reason. */
export async function tryGetJson(url: string, timeoutMs: number, token: string | null = null): Promise<unknown> {
  try {
    return await getJson(url, timeoutMs, token);
  } catch {
    return null;
  }
}
