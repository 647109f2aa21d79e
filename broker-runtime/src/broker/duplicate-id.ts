import type { OutboundTls } from '../config/tls.js';
import type { BrokerRegistration } from '../election/lease-store.js';
import { getOnce } from './advertised-check.js';

export interface DuplicateIdInput {
  id: string;
  /** This process's random instance (GET /health `instance`). */
  instance: string;
  /** This broker's advertised URL. */
  url: string;
  cluster: string;
  leaseMs: number;
  renewMs: number;
  readRegistration(id: string): Promise<{ reg: BrokerRegistration | null; ttlMs: number }>;
  tls: OutboundTls;
  sleep?: (ms: number) => Promise<void>;
}

const PROBE_TIMEOUT_MS = 1500;

/**
 * Is another live process registered under this broker's --id? Asked once at start, before this
 * broker registers: two brokers with one id (a copied env file, cloned machines with the default
 * `broker-<hostname>`) take turns overwriting one registration, so the leader replicates to
 * whichever wrote last, and they count as one in-sync replica — one with an empty log could be
 * elected and lose acknowledged records.
 *
 * A registration left by this broker's own previous process (a crash, a SIGKILL) looks the same
 * for up to a lease, so: the same URL as ours is our previous life (we listen there now); another
 * URL is asked for /health — the registered process answering is a live duplicate; otherwise the
 * registration is watched for up to a lease: renewed means a live duplicate, expired means a
 * previous life. Redis unreachable: no verdict (null), the broker starts as before.
 * Returns the line to stop with, or null.
 */
export async function liveDuplicate(input: DuplicateIdInput): Promise<string | null> {
  const sleep = input.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let first: { reg: BrokerRegistration | null; ttlMs: number };
  try {
    first = await input.readRegistration(input.id);
  } catch {
    return null;
  }
  const reg = first.reg;
  if (!reg || reg.instance === input.instance || reg.url === input.url) return null;
  if (await answersAsRegistered(reg, input)) return duplicateLine(input, reg.url);
  // Unreachable from here (or it restarted meanwhile): a live owner renews within a renew period.
  let lastTtl = first.ttlMs;
  const deadline = performance.now() + input.leaseMs + input.renewMs;
  while (performance.now() < deadline) {
    await sleep(Math.max(50, Math.min(250, input.renewMs / 2)));
    let now: { reg: BrokerRegistration | null; ttlMs: number };
    try {
      now = await input.readRegistration(input.id);
    } catch {
      return null;
    }
    if (!now.reg) return null;
    const rewritten = now.reg.instance !== reg.instance || now.reg.url !== reg.url;
    // PX is set afresh on each registration: a remaining time that grew was renewed by its owner.
    if (rewritten || now.ttlMs > lastTtl + 20) return duplicateLine(input, now.reg.url);
    lastTtl = now.ttlMs;
  }
  return null;
}

/** Does the registered URL answer as a live broker with this id (and, when registered, that instance)? */
async function answersAsRegistered(reg: BrokerRegistration, input: DuplicateIdInput): Promise<boolean> {
  try {
    const answer = await getOnce(new URL('/health', reg.url), input.tls, PROBE_TIMEOUT_MS);
    const body = JSON.parse(answer.text) as { id?: unknown; instance?: unknown };
    if (body.id !== input.id || body.instance === input.instance) return false;
    return reg.instance === undefined || body.instance === reg.instance;
  } catch {
    return false;
  }
}

/** The line naming a live broker with this broker's id, the harm, and the fix. */
export function duplicateLine(input: Pick<DuplicateIdInput, 'id' | 'url' | 'cluster'>, otherUrl: string): string {
  return (
    `broker id ${input.id} is already in use by a live broker at ${otherUrl} (cluster ${input.cluster}; this one advertises ${input.url}). ` +
    'Two brokers with one --id overwrite each other\'s registration and count as one in-sync replica, so one with an empty log could be elected and lose acknowledged records. ' +
    `Give this broker an --id (BROKER_ID) no other broker of the cluster uses (the default broker-<hostname> collides on cloned machines), or stop the one at ${otherUrl} first if it is this broker's previous process`
  );
}
