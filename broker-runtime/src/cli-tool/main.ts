import { readFileSync } from 'node:fs';
import { YakClientError } from '../client/index.js';
import { CONNECTION_HELP, parseCommandArgs, splitCommand } from './args.js';
import { clusterCommand } from './cluster.js';
import type { Command } from './command.js';
import { connectionFrom, type Connection } from './connect.js';
import { consumeCommand } from './consume.js';
import { describeFailure, oneLine } from './failure.js';
import { OutputClosed, type Io } from './io.js';
import { ProduceFailed, produceCommand } from './produce.js';
import { topicsCommand } from './topics.js';
import { groupsCommand } from './groups.js';
import { CommandError, UsageError } from './usage-error.js';

const COMMANDS: readonly Command[] = [produceCommand, consumeCommand, topicsCommand, groupsCommand, clusterCommand];

export const EXIT_OK = 0;
/** A runtime failure: no broker reachable, a refused request, an unknown topic. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: yak <command> [options]

A command-line client of a YAK cluster, used the way kcat is. It follows the leader (any seed
broker will do) and retries through a failover.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}
  ${'help'.padEnd(width)}  yak help <command> is yak <command> --help

Examples:
  printf 'customer-7:{"total":42}\\n' | yak produce orders -K:
  yak consume orders -K: --follow
  yak topics create audit --partitions 1
  yak groups describe billing
  yak cluster -b http://127.0.0.1:5001,http://127.0.0.1:5002

${CONNECTION_HELP}
      --version           print the version

Exit codes: 0 ok; 1 the cluster could not do it (unreachable, refused, unknown topic);
2 a usage error. Errors are one line on stderr.
`;
}

function commandHelp(c: Command): string {
  return `${c.help}\n\n${CONNECTION_HELP}\n`;
}

/** Runs one `yak` command line and returns its exit code; output goes to io, nothing exits the process. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  let connection: Connection | undefined;
  let name = 'yak';
  try {
    const { command, rest } = splitCommand(argv);
    if (command === null) {
      if (rest.includes('--version') || rest.includes('-V')) return print(io, `yak ${packageVersion()}\n`);
      if (rest.includes('--help') || rest.includes('-h')) return print(io, mainHelp());
      if (rest.length === 0) {
        io.stderr.write(mainHelp());
        return EXIT_USAGE;
      }
      throw new UsageError(`no command given (${rest.join(' ')}); see yak --help`);
    }
    if (command === 'help') {
      const topic = rest.find((w) => !w.startsWith('-'));
      const c = topic === undefined ? undefined : COMMANDS.find((x) => x.name === topic);
      if (topic !== undefined && !c) throw new UsageError(`unknown command '${topic}'; commands: ${COMMANDS.map((x) => x.name).join(', ')}`);
      return print(io, c ? commandHelp(c) : mainHelp());
    }
    const c = COMMANDS.find((x) => x.name === command);
    if (!c) throw new UsageError(`unknown command '${command}'; commands: ${COMMANDS.map((x) => x.name).join(', ')} (see yak --help)`);
    name = c.name;
    const args = parseCommandArgs(c.name, rest, c.options);
    if (args.values['help'] === true) return print(io, commandHelp(c));
    connection = connectionFrom(args.values, io.env);
    await c.run(args, connection, io);
    return EXIT_OK;
  } catch (err) {
    if (err instanceof OutputClosed) return EXIT_OK;
    const { code, message } = explain(err, connection, io.env);
    io.stderr.write(`yak${name === 'yak' ? '' : ` ${name}`}: ${oneLine(message)}\n`);
    return code;
  }
}

function explain(err: unknown, connection: Connection | undefined, env: NodeJS.ProcessEnv): { code: number; message: string } {
  if (err instanceof UsageError) return { code: EXIT_USAGE, message: err.message };
  if (err instanceof CommandError) return { code: EXIT_FAILURE, message: err.message };
  if (err instanceof ProduceFailed) {
    const { message } = explain(err.cause, connection, env);
    return { code: EXIT_FAILURE, message: `${message} (${err.acknowledged} record${err.acknowledged === 1 ? ' was' : 's were'} acknowledged before this)` };
  }
  if (err instanceof YakClientError) return { code: EXIT_FAILURE, message: describeFailure(err, connection ?? { brokers: [], hasToken: false }) };
  // A bug, not a cluster problem: keep the stack where it can be found.
  if (err instanceof Error && env['YAK_DEBUG']) return { code: EXIT_FAILURE, message: err.stack ?? err.message };
  return { code: EXIT_FAILURE, message: `unexpected error: ${err instanceof Error ? err.message : String(err)} (YAK_DEBUG=1 shows where)` };
}

function print(io: Io, text: string): number {
  io.stdout.write(text);
  return EXIT_OK;
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
