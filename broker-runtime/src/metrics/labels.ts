/** Label values by label name. Numbers are rendered with String(). */
export type LabelValues<L extends string> = Readonly<Record<L, string | number>>;

const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function checkMetricName(name: string): void {
  if (!METRIC_NAME_RE.test(name)) throw new Error(`invalid metric name ${JSON.stringify(name)}: use [a-zA-Z_:][a-zA-Z0-9_:]*`);
}

export function checkLabelNames(metric: string, names: readonly string[], reserved: readonly string[] = []): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (!LABEL_NAME_RE.test(n) || n.startsWith('__') || reserved.includes(n) || seen.has(n)) {
      throw new Error(`metric ${metric}: invalid or repeated label name ${JSON.stringify(n)}`);
    }
    seen.add(n);
  }
}

/** Prometheus label-value escaping: backslash, double quote and newline. */
export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`)) : value;
}

/** HELP text escaping: backslash and newline (quotes stay as they are). */
export function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

/**
 * The series key: the label pairs rendered exactly as Prometheus wants them inside the braces,
 * in the metric's declared label order (`topic="t",partition="0"`), '' for a metric without labels.
 * One string per call and a Map lookup: O(number of labels), no other allocation.
 */
export function labelKey(metric: string, names: readonly string[], labels: Readonly<Record<string, unknown>> | undefined): string {
  if (names.length === 0) return '';
  let key = '';
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const value = labels?.[name];
    if (value === undefined || value === null) throw new Error(`metric ${metric} needs label ${name}`);
    key += `${i === 0 ? '' : ','}${name}="${escapeLabelValue(String(value))}"`;
  }
  return key;
}
