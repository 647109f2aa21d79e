import { describeExit, type ExitInfo } from './managed-process.js';

/** "broker-2 started (pid 123, port 5002)". */
export function startedMessage(name: string, pid: number | null, port: number | null): string {
  return `${name} started (pid ${pid ?? '?'}${port ? `, port ${port}` : ''})`;
}

/**
 * "broker-2 crashed (code 1); last output: …": an exit we did not ask for quotes the process's
 * last line, which usually says why.
 */
export function exitMessage(exit: ExitInfo, output: readonly string[]): string {
  const how = exit.error ? `could not start: ${exit.error}` : describeExit(exit.code, exit.signal);
  const verb = exit.expected ? (exit.state === 'stopped' ? 'stopped' : 'exited') : exit.state === 'crashed' ? 'crashed' : 'exited';
  let text = `${exit.name} ${verb} (${how})`;
  if (!exit.expected) {
    const last = output.filter((l) => !l.startsWith('[yak]')).pop();
    if (last) text += `; last output: ${last.slice(0, 300)}`;
  }
  return text;
}
