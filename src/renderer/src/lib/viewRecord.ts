/** One consumed record as the consumer pane lists it. */
export interface ViewRecord {
  partition: number;
  offset: number;
  key: string | null;
  timestamp: number;
  payload: unknown;
  headers: Record<string, string>;
  /** Lower-cased key, payload text and headers, filled the first time a filter looks at the record. */
  searchText?: string;
}
