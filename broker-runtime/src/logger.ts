export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, line: string) => void;

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** One line per event on stderr: time, level, broker id, message — easy to read in the app's process view and to grep. */
export function createLogger(id: string, min: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  return (level, line) => {
    if (rank[level] < rank[min]) return;
    write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} [${id}] ${line}`);
  };
}
