/**
 * The broker's marker of an idempotent Kafka producer's batch (broker-runtime
 * kafka/idempotence/producer-marker.ts). It describes where that batch sits in the partition it was
 * read from, so it means nothing in a copy, and a broker refuses it from REST producers (a forged
 * one could make a new leader drop a real batch as a duplicate).
 */
const PRODUCER_MARKER = 'yak.producer';

/** A consumed record's headers as a re-produced copy carries them: everything but the producer marker. */
export function reproducibleHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) if (name !== PRODUCER_MARKER) out[name] = headers[name]!;
  return out;
}
