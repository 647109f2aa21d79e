/** A figure as the table prints it: thousands separated, fewer decimals as it grows; n/a for none. */
export function number(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return 'n/a';
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en');
  if (Number.isInteger(v)) return String(v); // counts (files, records) print as counts
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}
