import http from 'node:http';
import https from 'node:https';
import type { OutboundTls } from '../config/tls.js';
import { unreachableReason } from '../replication/unreachable.js';

/** What GET <advertised URL>/health found: this very process, another one, nothing, or no verdict. */
export type AdvertisedCheck =
  | { state: 'pending' }
  | { state: 'ok' }
  | { state: 'unreachable'; detail: string }
  | { state: 'other-broker'; detail: string }
  | { state: 'unknown'; detail: string };

export interface Self {
  id: string;
  /** Random per process (GET /health `instance`): tells this process from a restarted or duplicate one. */
  instance: string;
}

/**
 * Asks this broker's own advertised URL for /health and compares the id and per-process instance
 * it answers with: the one test that the URL others are told to use really leads here (a hostname
 * only this machine resolves, an address nothing listens on, a port that belongs to another broker).
 */
export async function checkAdvertisedUrl(url: string, self: Self, tls: OutboundTls, timeoutMs: number): Promise<AdvertisedCheck> {
  let answer: { status: number; text: string };
  try {
    answer = await getOnce(new URL('/health', url), tls, timeoutMs);
  } catch (err) {
    const reason = unreachableReason(err, url);
    if (reason) return { state: 'unreachable', detail: reason.why };
    return { state: 'unknown', detail: (err as Error).message };
  }
  let body: { id?: unknown; instance?: unknown };
  try {
    body = JSON.parse(answer.text) as typeof body;
  } catch {
    return { state: 'other-broker', detail: `HTTP ${answer.status} with a body that is not a YAK broker's health (${answer.text.slice(0, 60)})` };
  }
  if (body.id === self.id && body.instance === self.instance) return { state: 'ok' };
  if (typeof body.id === 'string' && body.id !== self.id) return { state: 'other-broker', detail: `broker ${body.id} answered, not this broker (${self.id})` };
  if (body.id === self.id) return { state: 'other-broker', detail: `another process with this broker's id ${self.id} answered (a second broker started with the same --id?)` };
  return { state: 'unknown', detail: `HTTP ${answer.status}: ${answer.text.slice(0, 80)}` };
}

/** The one warning line for a check that did not find this broker, or null when it did. */
export function advertisedWarning(check: AdvertisedCheck, url: string, host: string): string | null {
  const fix = `Set --advertised-url (YAK_ADVERTISED_URL) to a URL the other brokers and clients can reach, and --host (YAK_HOST, now ${host}) to an address that URL arrives on`;
  switch (check.state) {
    case 'ok':
    case 'pending':
      return null;
    case 'unreachable':
      return `the advertised URL ${url} does not reach this broker: ${check.detail}. Other brokers cannot replicate to it and clients cannot reach it there. ${fix}`;
    case 'other-broker':
      return `the advertised URL ${url} leads somewhere else: ${check.detail}. ${fix}`;
    case 'unknown':
      return `could not tell whether the advertised URL ${url} reaches this broker (${check.detail}); if other brokers cannot reach it, ${fix[0]!.toLowerCase()}${fix.slice(1)}`;
  }
}

/** One GET with no connection reuse: status and the first 4 KiB of the body as text. */
export function getOnce(url: URL, tls: OutboundTls, timeoutMs: number): Promise<{ status: number; text: string }> {
  const secure = url.protocol === 'https:';
  const request = secure ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', agent: false, timeout: timeoutMs, ...(secure ? tls : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8').slice(0, 4096) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end();
  });
}
