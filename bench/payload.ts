/** The record every workload sends: 100 bytes of JSON, as the issue asks, with a sequence number inside. */
export const PAYLOAD_BYTES = 100;

/** A JSON object whose serialised form is exactly PAYLOAD_BYTES long, carrying `seq`. */
export function payloadText(seq: number): string {
  const head = `{"seq":${seq},"pad":"`;
  const tail = '"}';
  return head + 'x'.repeat(Math.max(0, PAYLOAD_BYTES - head.length - tail.length)) + tail;
}

/** One POST /produce body (keyless: the broker spreads records over partitions round-robin). */
export function produceBody(topic: string, seq: number, partition?: number): string {
  return `{"topic":${JSON.stringify(topic)},"payload":${payloadText(seq)}${partition === undefined ? '' : `,"partition":${partition}`}}`;
}

/** One POST /produce/batch body of `count` records. */
export function batchBody(topic: string, count: number, firstSeq = 0): string {
  const records: string[] = new Array<string>(count);
  for (let i = 0; i < count; i++) records[i] = `{"payload":${payloadText(firstSeq + i)}}`;
  return `{"topic":${JSON.stringify(topic)},"records":[${records.join(',')}]}`;
}
