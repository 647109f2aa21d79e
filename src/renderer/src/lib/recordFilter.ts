import { computed, ref, watch, type ComputedRef, type Ref } from 'vue';
import type { ViewRecord } from './viewRecord';

/** What the filter reads of a subscription: its records, and the counters that say they changed. */
export interface RecordSource {
  readonly records: readonly ViewRecord[];
  readonly version: Ref<number>;
  /** Bumped when records are removed, so the filter starts over. */
  readonly generation: number;
}

export interface RecordView {
  list: readonly ViewRecord[];
  length: number;
}

/** Key, payload and headers (as `name=value`, the way the list shows them) are searched. */
function searchTextOf(r: ViewRecord): string {
  if (r.searchText === undefined) {
    const headers = Object.entries(r.headers ?? {}).map(([k, v]) => `${k}=${v}`).join('\u0000');
    r.searchText = `${r.key ?? ''}\u0000${JSON.stringify(r.payload)}\u0000${headers}`.toLowerCase();
  }
  return r.searchText;
}

/**
 * The records a subscription shows under a text filter. Incremental: new records are scanned once
 * as they arrive, so filtering stays cheap while 100 000 records stream in. The returned object is
 * new on every change — the list array itself is mutated in place and would not notify anyone.
 */
export function useRecordFilter(sub: RecordSource, text: Ref<string>): ComputedRef<RecordView> {
  const needle = ref('');
  let timer: ReturnType<typeof setTimeout> | null = null;
  watch(text, (t) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => (needle.value = t.trim().toLowerCase()), 150);
  });

  let matched: ViewRecord[] = [];
  let scanned = 0;
  let scannedNeedle = '';
  let scannedGeneration = -1;

  return computed(() => {
    void sub.version.value;
    const all = sub.records;
    const n = needle.value;
    if (!n) return { list: all, length: all.length };
    if (n !== scannedNeedle || sub.generation !== scannedGeneration) {
      matched = [];
      scanned = 0;
      scannedNeedle = n;
      scannedGeneration = sub.generation;
    }
    for (; scanned < all.length; scanned++) {
      const r = all[scanned]!;
      if (searchTextOf(r).includes(n)) matched.push(r);
    }
    return { list: matched, length: matched.length };
  });
}
