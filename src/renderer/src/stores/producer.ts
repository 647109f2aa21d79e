import { defineStore } from 'pinia';
import { computed, reactive, ref, shallowRef } from 'vue';
import type { ProduceResult } from '../../../shared/cluster-api';
import { MAX_RECORD_BYTES, formatBytes, recordBytes } from '../../../shared/record-size';
import { clusterApi, describeError } from '../bridge';
import { TOPIC_NAME } from '../lib/format';
import { RateMeter } from '../lib/rate';
import { useClusterStore } from './cluster';

export interface HeaderRow {
  id: number;
  name: string;
  value: string;
}

export type PayloadCheck = { ok: true; value: unknown } | { ok: false; message: string };

export type SendOutcome =
  | { ok: true; result: ProduceResult; at: number }
  | { ok: false; message: string; at: number };

/** Parses as the user types, so the form can say exactly what is wrong before anything is sent. */
export function checkPayload(text: string): PayloadCheck {
  if (text.trim() === '') return { ok: false, message: 'The payload is empty — type a JSON value, e.g. {"n": 1}.' };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, message: `Not valid JSON: ${(error as Error).message}` };
  }
}

export const useProducerStore = defineStore('producer', () => {
  const api = clusterApi();
  const cluster = useClusterStore();

  const form = reactive({
    topic: 'demo',
    key: '',
    payload: '{\n  "user": "ada",\n  "action": "login"\n}',
    partition: '',
    headers: [] as HeaderRow[],
  });
  let nextHeaderId = 1;

  const sending = ref(false);
  const lastOutcome = shallowRef<SendOutcome | null>(null);
  const sent = ref(0);
  const failed = ref(0);
  const ratePerSec = ref(0);
  const meter = new RateMeter();
  setInterval(() => (ratePerSec.value = meter.perSecond()), 500);

  const payloadCheck = computed(() => checkPayload(form.payload));
  const partitionCount = computed(
    () => cluster.topics.find((t) => t.name === form.topic.trim())?.partitions.length ?? null,
  );
  const topicError = computed(() =>
    TOPIC_NAME.test(form.topic.trim()) ? null : 'Topic names use letters, digits, ".", "_" and "-" (1–249), and are not "." or "..".',
  );
  const partitionError = computed(() => {
    const p = form.partition.trim();
    if (p === '') return null;
    if (!/^\d+$/.test(p)) return 'Partition is a whole number (or leave it empty to let the key decide).';
    const count = partitionCount.value;
    if (count !== null && Number(p) >= count) return `This topic has partitions 0–${count - 1}.`;
    return null;
  });
  /** Header names used more than once (trimmed, as sent): a record's headers are a map, one value per name. */
  const duplicateHeaderNames = computed(() => {
    const seen = new Set<string>();
    const dup = new Set<string>();
    for (const h of form.headers) {
      const name = h.name.trim();
      if (name === '') continue;
      if (seen.has(name)) dup.add(name);
      seen.add(name);
    }
    return dup;
  });
  const headersError = computed(() => {
    if (form.headers.some((h) => h.name.trim() === '' && h.value !== '')) return 'Every header needs a name.';
    const dup = [...duplicateHeaderNames.value];
    if (dup.length) return `Header ${dup.map((n) => `"${n}"`).join(', ')} is given more than once: a record has one value per header name.`;
    return null;
  });
  const headersToSend = computed(() =>
    Object.fromEntries(form.headers.filter((h) => h.name.trim() !== '').map((h) => [h.name.trim(), h.value])) as Record<string, string>,
  );
  /** The record's size as the broker measures it (payload JSON + key + headers), or null while the payload is not JSON. */
  const recordSize = computed(() => {
    const check = payloadCheck.value;
    if (!check.ok) return null;
    return recordBytes(JSON.stringify(check.value), form.key === '' ? null : form.key, headersToSend.value);
  });
  const sizeError = computed(() =>
    recordSize.value !== null && recordSize.value > MAX_RECORD_BYTES
      ? `The record is ${formatBytes(recordSize.value)} (${recordSize.value} bytes), over the brokers' limit of 1 MiB (${MAX_RECORD_BYTES} bytes): they would refuse it with 413 MESSAGE_TOO_LARGE.`
      : null,
  );
  const canSend = computed(
    () => payloadCheck.value.ok && !topicError.value && !partitionError.value && !headersError.value && !sizeError.value,
  );

  function addHeader(): void {
    form.headers.push({ id: nextHeaderId++, name: '', value: '' });
  }

  function removeHeader(id: number): void {
    form.headers = form.headers.filter((h) => h.id !== id);
  }

  /** Counts records the CSV upload sent, so the pane shows one set of totals. */
  function count(ok: number, refused: number): void {
    sent.value += ok;
    failed.value += refused;
    if (ok > 0) meter.add(ok);
  }

  async function send(): Promise<void> {
    const check = payloadCheck.value;
    if (!check.ok || !canSend.value || sending.value) return;
    const headers = headersToSend.value;
    sending.value = true;
    try {
      const result = await api.produce({
        topic: form.topic.trim(),
        key: form.key === '' ? null : form.key,
        payload: check.value,
        ...(form.partition.trim() !== '' ? { partition: Number(form.partition) } : {}),
        ...(Object.keys(headers).length ? { headers } : {}),
      });
      lastOutcome.value = { ok: true, result, at: Date.now() };
      count(1, 0);
    } catch (error) {
      lastOutcome.value = { ok: false, message: describeError(error), at: Date.now() };
      count(0, 1);
    } finally {
      sending.value = false;
    }
  }

  return {
    form,
    sending,
    lastOutcome,
    sent,
    failed,
    ratePerSec,
    payloadCheck,
    partitionCount,
    topicError,
    partitionError,
    headersError,
    duplicateHeaderNames,
    recordSize,
    sizeError,
    canSend,
    addHeader,
    removeHeader,
    count,
    send,
  };
});
