import type { BrokerProduceAnswer, ProduceRequest } from '../../../shared/cluster-api.js';

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * POST /produce to one broker, and report exactly what it answered. Deliberately not the
 * broker-runtime client: that one follows NOT_LEADER and retries, which is right for a producer
 * and wrong for a lesson that must show what a deposed leader itself says (and with which epoch).
 */
export async function produceOnOneBroker(
  broker: { id: string; url: string },
  request: ProduceRequest,
  timeoutMs: number,
  token: string | null,
): Promise<BrokerProduceAnswer> {
  const sentAt = Date.now();
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) headers['authorization'] = `Bearer ${token}`;
  const body = {
    topic: request.topic,
    payload: request.payload,
    ...(request.key !== undefined ? { key: request.key } : {}),
    ...(request.partition !== undefined ? { partition: request.partition } : {}),
    ...(request.headers !== undefined ? { headers: request.headers } : {}),
  };
  const base = { brokerId: broker.id, sentAt };
  let res: Response;
  try {
    res = await fetch(`${broker.url}/produce`, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const timedOut = (err as Error).name === 'TimeoutError';
    const message = timedOut ? `no answer from ${broker.id} within ${timeoutMs} ms` : `${broker.id} could not be reached: ${(err as Error).message}`;
    return { ...base, answeredAt: Date.now(), status: 0, result: null, error: { code: timedOut ? 'TIMEOUT' : 'UNREACHABLE', message, epoch: null, leader: null } };
  }
  const answer: unknown = await res.json().catch(() => null);
  const answeredAt = Date.now();
  if (res.ok && isObj(answer) && typeof answer['partition'] === 'number' && typeof answer['offset'] === 'number') {
    return { ...base, answeredAt, status: res.status, result: { topic: String(answer['topic'] ?? request.topic), partition: answer['partition'], offset: answer['offset'] }, error: null };
  }
  const err = isObj(answer) ? answer : {};
  const leader = isObj(err['leader']) && typeof err['leader']['id'] === 'string' ? { id: err['leader']['id'], url: String(err['leader']['url'] ?? '') } : null;
  return {
    ...base,
    answeredAt,
    status: res.status,
    result: null,
    error: {
      code: typeof err['error'] === 'string' ? err['error'] : `HTTP_${res.status}`,
      message: typeof err['message'] === 'string' ? err['message'] : res.statusText,
      epoch: typeof err['epoch'] === 'number' ? err['epoch'] : null,
      leader,
    },
  };
}
