import { defineStore } from 'pinia';
import { computed, markRaw, ref, shallowRef } from 'vue';
import type { BatchRecord } from '../../../shared/cluster-api';
import { clusterApi, describeError } from '../bridge';
import { parseCsv, type CsvRow } from '../lib/csv';
import { isPerRecordRefusal, oneLineError } from '../lib/oneLine';
import { useProducerStore } from './producer';

export interface Refusal {
  /** The file's line number where the row starts (the header is line 1): what an editor shows. */
  row: number;
  key: string | null;
  reason: string;
}

const BATCH_SIZE = 100;
// When a batch is refused we retry its rows one by one, a few at a time, to name the guilty rows.
const SINGLE_RETRY_CONCURRENCY = 4;

export const useCsvStore = defineStore('csv', () => {
  const api = clusterApi();
  const producer = useProducerStore();

  const fileName = ref<string | null>(null);
  const columns = ref<string[]>([]);
  // Raw rows: a CSV can be large and is only read, never edited, so it stays out of reactivity.
  const rows = shallowRef<readonly CsvRow[]>([]);
  /** Rows of the file that will not be sent (malformed), known before sending. */
  const skipped = shallowRef<Refusal[]>([]);
  /** The line that made the whole file unreadable (an unclosed quote), if any. */
  const refusedLine = ref<number | null>(null);
  const keyColumn = ref('');
  const topic = ref(producer.form.topic);
  const status = ref<'empty' | 'parsing' | 'refused' | 'ready' | 'sending' | 'done' | 'cancelled' | 'stopped'>('empty');
  /** The first file line not sent when the cluster refused the upload. */
  const stoppedAtLine = ref<number | null>(null);
  /** File lines of the batch waiting for its answer. */
  const inFlight = ref<{ from: number; to: number; rows: number } | null>(null);
  const processed = ref(0);
  const delivered = ref(0);
  const refusals = shallowRef<Refusal[]>([]);
  const error = ref<string | null>(null);
  let loadSeq = 0;

  const total = computed(() => rows.value.length);
  const progress = computed(() => (total.value === 0 ? 0 : processed.value / total.value));

  /** Reads the whole file before anything is sent: a malformed file is refused, skipped rows are listed. */
  async function load(file: File): Promise<void> {
    reset();
    const seq = ++loadSeq;
    fileName.value = file.name;
    status.value = 'parsing';
    let text: string;
    try {
      text = await file.text();
    } catch (e) {
      status.value = 'refused';
      error.value = `Could not read the file: ${(e as Error).message}`;
      return;
    }
    if (seq !== loadSeq) return; // another file was chosen meanwhile
    const parsed = parseCsv(text);
    if (!parsed.ok) {
      status.value = 'refused';
      refusedLine.value = parsed.line;
      error.value = `Line ${parsed.line}: ${parsed.reason}`;
      return;
    }
    rows.value = markRaw(parsed.rows);
    skipped.value = parsed.skipped.map((s) => ({ row: s.line, key: null, reason: `Will not be sent — ${s.reason}` }));
    columns.value = parsed.columns;
    if (!columns.value.includes(keyColumn.value)) keyColumn.value = columns.value[0] ?? '';
    status.value = 'ready';
    if (rows.value.length === 0) error.value = 'No data rows to send: the first line names the columns, the rows follow.';
  }

  function toRecord(row: CsvRow): BatchRecord {
    const rawKey = keyColumn.value ? row.values[keyColumn.value] : undefined;
    return {
      key: rawKey === undefined || rawKey === '' ? null : rawKey,
      payload: row.values,
      headers: { 'csv-file': fileName.value ?? '', 'csv-row': String(row.line) },
    };
  }

  /** Why the upload stopped early (one line), and from which file line nothing more was sent. */
  function stopWith(err: unknown, fromLine: number): void {
    const { text } = oneLineError(err);
    status.value = 'stopped';
    stoppedAtLine.value = fromLine;
    error.value = text;
  }

  /** Rows of a refused batch, one at a time (a few in parallel), to name the guilty rows; false once the cluster refuses everything. */
  async function retryOneByOne(topic: string, batch: BatchRecord[], source: readonly CsvRow[], run: number): Promise<boolean> {
    const refused: Refusal[] = [];
    let ok = 0;
    let next = 0;
    const found: { clusterRefusal: { err: unknown; line: number } | null } = { clusterRefusal: null };
    const worker = async () => {
      while (next < batch.length && !found.clusterRefusal && !stale(run)) {
        const i = next++;
        const record = batch[i]!;
        try {
          await api.produce({ topic, ...record }, { cancelId });
          ok++;
        } catch (e) {
          if (!isPerRecordRefusal(oneLineError(e).code)) found.clusterRefusal ??= { err: e, line: source[i]!.line };
          else refused.push({ row: source[i]!.line, key: record.key ?? null, reason: describeError(e) });
        }
      }
    };
    await Promise.all(Array.from({ length: SINGLE_RETRY_CONCURRENCY }, worker));
    refused.sort((a, b) => a.row - b.row);
    refusals.value = [...refusals.value, ...refused];
    delivered.value += ok;
    producer.count(ok, refused.length);
    const stop = found.clusterRefusal;
    if (stop && !stale(run)) stopWith(stop.err, stop.line);
    return !stop;
  }

  /** A run ends when it finishes, stops, or is cancelled; answers of an ended run change nothing but the counts. */
  let runSeq = 0;
  /** Names this run's calls on the host, so Cancel aborts the one in flight and its retries. */
  let cancelId = '';
  const stale = (run: number) => run !== runSeq || status.value !== 'sending';

  async function upload(): Promise<void> {
    const target = topic.value.trim();
    if (status.value !== 'ready' && status.value !== 'done' && status.value !== 'cancelled' && status.value !== 'stopped') return;
    const run = ++runSeq;
    cancelId = `csv-${Date.now().toString(36)}-${run}`;
    status.value = 'sending';
    processed.value = 0;
    delivered.value = 0;
    refusals.value = [];
    error.value = null;
    stoppedAtLine.value = null;
    inFlight.value = null;
    const all = rows.value;
    for (let start = 0; start < all.length; start += BATCH_SIZE) {
      if (stale(run)) return;
      const source = all.slice(start, start + BATCH_SIZE);
      const batch = source.map(toRecord);
      inFlight.value = { from: source[0]!.line, to: source[source.length - 1]!.line, rows: source.length };
      try {
        await api.produceBatch(target, batch, { cancelId });
        delivered.value += batch.length;
        producer.count(batch.length, 0);
      } catch (e) {
        // Cancelled: the batch was aborted, but it may have reached the leader first; say so (inFlight stays).
        if (stale(run)) return;
        // The cluster refuses every record alike (NOT_ENOUGH_REPLICAS, no leader…): say so once and stop,
        // rather than retrying each row only to be refused the same way.
        if (!isPerRecordRefusal(oneLineError(e).code)) {
          inFlight.value = null;
          stopWith(e, source[0]!.line);
          return;
        }
        if (!(await retryOneByOne(target, batch, source, run))) {
          inFlight.value = null;
          return;
        }
      }
      inFlight.value = null;
      if (stale(run)) return;
      processed.value = Math.min(start + BATCH_SIZE, all.length);
    }
    status.value = 'done';
  }

  /**
   * Stops at once: no further batch is sent, and the one in flight is aborted on the host (its
   * request and the client's retries). It may have reached the leader already, so it may still commit.
   */
  function cancel(): void {
    if (status.value !== 'sending') return;
    status.value = 'cancelled';
    void api.cancelCalls(cancelId).catch(() => undefined);
  }

  function reset(): void {
    fileName.value = null;
    columns.value = [];
    rows.value = [];
    skipped.value = [];
    refusedLine.value = null;
    refusals.value = [];
    runSeq++;
    status.value = 'empty';
    stoppedAtLine.value = null;
    inFlight.value = null;
    processed.value = 0;
    delivered.value = 0;
    error.value = null;
  }

  return {
    fileName, columns, keyColumn, topic, status, stoppedAtLine, inFlight, skipped, refusedLine, processed, delivered, refusals, error, total, progress,
    load, upload, cancel, reset,
  };
});
