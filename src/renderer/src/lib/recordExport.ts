/** A record as exported: where it was (topic, partition, offset), when, and what it held. */
export interface ExportedRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  headers: Record<string, string>;
  payload: unknown;
}

export function toExported(topic: string, records: readonly Omit<ExportedRecord, 'topic'>[]): ExportedRecord[] {
  return records.map((r) => ({ topic, partition: r.partition, offset: r.offset, timestamp: r.timestamp, key: r.key, headers: { ...r.headers }, payload: r.payload }));
}

export function toJson(records: readonly ExportedRecord[]): string {
  return `${JSON.stringify(records, null, 2)}\n`;
}

const CSV_COLUMNS = ['topic', 'partition', 'offset', 'timestamp', 'key', 'headers', 'payload'] as const;

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
function field(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * One row per record; headers and payload as JSON text (a payload that is a string stays that
 * string, so a CSV row's text comes back out as it went in); an absent key is an empty field.
 */
export function toCsv(records: readonly ExportedRecord[]): string {
  const rows = records.map((r) =>
    [r.topic, String(r.partition), String(r.offset), new Date(r.timestamp).toISOString(), r.key ?? '', JSON.stringify(r.headers), typeof r.payload === 'string' ? r.payload : JSON.stringify(r.payload)]
      .map(field)
      .join(','),
  );
  return `${[CSV_COLUMNS.join(','), ...rows].join('\r\n')}\r\n`;
}
