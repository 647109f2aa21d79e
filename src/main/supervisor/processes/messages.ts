import type { BrokerProcess, PortMove } from './cluster-processes.js';
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

/**
 * "broker-2 starts on port 12345: its port 37139 was taken by another program while it was down
 * (URL now http://127.0.0.1:12345)": why a broker's URL or bootstrap server changed. It starts
 * with the name and a space, as the activity log shows the name apart and drops it from the text.
 */
export function portMovedMessage(name: string, move: PortMove, broker: Pick<BrokerProcess, 'url'>): string {
  if (move.listener === 'http') {
    return `${name} starts on port ${move.to}: its port ${move.from} was taken by another program while it was down (URL now ${broker.url})`;
  }
  return `${name} starts its Kafka listener on port ${move.to}: its Kafka port ${move.from} was taken by another program while it was down (bootstrap server now 127.0.0.1:${move.to})`;
}
