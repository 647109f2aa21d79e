import { defineStore } from 'pinia';
import Papa from 'papaparse';
import { computed, markRaw, ref, shallowRef } from 'vue';
import type { BatchRecord } from '../../../shared/cluster-api';
import { clusterApi, describeError } from '../bridge';
import { useProducerStore } from './producer';

export interface Refusal {
  /** Data row number, 1-based, header not counted. */
  row: number;
  key: string | null;
  reason: string;
}

type Row = Record<string, unknown>;

const BATCH_SIZE = 100;
// When a batch is refused we retry its rows one by one, a few at a time, to name the guilty rows.
const SINGLE_RETRY_CONCURRENCY = 4;

export const useCsvStore = defineStore('csv', () => {
  const api = clusterApi();
  const producer = useProducerStore();

  const fileName = ref<string | null>(null);
  const columns = ref<string[]>([]);
  // Raw rows: a CSV can be large and is only read, never edited, so it stays out of reactivity.
  const rows = shallowRef<readonly Row[]>([]);
  const parseRefusals = shallowRef<Refusal[]>([]);
  const keyColumn = ref('');
  const topic = ref(producer.form.topic);
  const status = ref<'empty' | 'parsing' | 'ready' | 'sending' | 'done' | 'cancelled'>('empty');
  const processed = ref(0);
  const delivered = ref(0);
  const refusals = shallowRef<Refusal[]>([]);
  const error = ref<string | null>(null);
  let cancelRequested = false;

  const total = computed(() => rows.value.length);
  const progress = computed(() => (total.value === 0 ? 0 : processed.value / total.value));

  function load(file: File): void {
    fileName.value = file.name;
    status.value = 'parsing';
    error.value = null;
    refusals.value = [];
    processed.value = 0;
    delivered.value = 0;
    Papa.parse<Row>(file, {
      header: true,
      skipEmptyLines: 'greedy',
      dynamicTyping: true,
      complete: (result) => {
        const bad = new Set(result.errors.map((e) => e.row).filter((r): r is number => typeof r === 'number'));
        parseRefusals.value = result.errors.map((e) => ({
          row: (e.row ?? -1) + 1,
          key: null,
          reason: `Not sent — the CSV row is malformed: ${e.message}`,
        }));
        rows.value = markRaw(result.data.filter((_, i) => !bad.has(i)));
        columns.value = result.meta.fields ?? [];
        if (!columns.value.includes(keyColumn.value)) keyColumn.value = columns.value[0] ?? '';
        status.value = 'ready';
        if (rows.value.length === 0) error.value = 'No data rows found: the first line must name the columns.';
      },
      error: (e) => {
        status.value = 'empty';
        error.value = `Could not read the file: ${e.message}`;
      },
    });
  }

  function toRecord(row: Row, index: number): BatchRecord {
    const rawKey = keyColumn.value ? row[keyColumn.value] : null;
    return {
      key: rawKey === null || rawKey === undefined || rawKey === '' ? null : String(rawKey),
      payload: row,
      headers: { 'csv-file': fileName.value ?? '', 'csv-row': String(index + 1) },
    };
  }

  async function retryOneByOne(topic: string, batch: BatchRecord[], firstIndex: number): Promise<void> {
    const refused: Refusal[] = [];
    let ok = 0;
    let next = 0;
    const worker = async () => {
      while (next < batch.length) {
        const i = next++;
        const record = batch[i]!;
        try {
          await api.produce({ topic, ...record });
          ok++;
        } catch (e) {
          refused.push({ row: firstIndex + i + 1, key: record.key ?? null, reason: describeError(e) });
        }
      }
    };
    await Promise.all(Array.from({ length: SINGLE_RETRY_CONCURRENCY }, worker));
    refused.sort((a, b) => a.row - b.row);
    refusals.value = [...refusals.value, ...refused];
    delivered.value += ok;
    producer.count(ok, refused.length);
  }

  async function upload(): Promise<void> {
    const target = topic.value.trim();
    if (status.value !== 'ready' && status.value !== 'done' && status.value !== 'cancelled') return;
    cancelRequested = false;
    status.value = 'sending';
    processed.value = 0;
    delivered.value = 0;
    refusals.value = [...parseRefusals.value];
    error.value = null;
    const all = rows.value;
    for (let start = 0; start < all.length; start += BATCH_SIZE) {
      if (cancelRequested) {
        status.value = 'cancelled';
        return;
      }
      const batch = all.slice(start, start + BATCH_SIZE).map((row, i) => toRecord(row, start + i));
      try {
        await api.produceBatch(target, batch);
        delivered.value += batch.length;
        producer.count(batch.length, 0);
      } catch {
        await retryOneByOne(target, batch, start);
      }
      processed.value = Math.min(start + BATCH_SIZE, all.length);
    }
    status.value = 'done';
  }

  function cancel(): void {
    cancelRequested = true;
  }

  function reset(): void {
    fileName.value = null;
    columns.value = [];
    rows.value = [];
    parseRefusals.value = [];
    refusals.value = [];
    status.value = 'empty';
    processed.value = 0;
    delivered.value = 0;
    error.value = null;
  }

  return {
    fileName, columns, keyColumn, topic, status, processed, delivered, refusals, error, total, progress,
    load, upload, cancel, reset,
  };
});
