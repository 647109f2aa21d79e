export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/**
 * One call per event. `line` is the human sentence (all the text format shows); `event` names the
 * kind of event for machines (`http.request`, `leader.elected`; `log` when not given) and `fields`
 * carries its values, which the json format writes as they are.
 */
export type Logger = (level: LogLevel, line: string, event?: string, fields?: LogFields) => void;

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * One line per event on stderr.
 * - text (default): `time LEVEL [broker] message` — easy to read in the app's process view and to grep.
 * - json: one object per line, `{"time","level","broker","event","message","fields"}`, for log
 *   shippers (Loki, Elasticsearch, CloudWatch): every line parses, whatever the message holds.
 */
export function createLogger(
  id: string,
  min: LogLevel,
  write: (line: string) => void = (l) => process.stderr.write(l + '\n'),
  format: LogFormat = 'text',
): Logger {
  if (format === 'json') {
    return (level, line, event, fields) => {
      if (rank[level] < rank[min]) return;
      write(JSON.stringify({ time: new Date().toISOString(), level, broker: id, event: event ?? 'log', message: line, fields: fields ?? {} }));
    };
  }
  return (level, line) => {
    if (rank[level] < rank[min]) return;
    write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} [${id}] ${line}`);
  };
}

/** Whether `level` passes a logger set to `min` (to skip building a line nobody will see). */
export function logs(min: LogLevel, level: LogLevel): boolean {
  return rank[level] >= rank[min];
}
