import type { ResetOffsetsInput } from '../client/index.js';
import { expectPositionals, stringValue, type Values } from './args.js';
import type { Command } from './command.js';
import { connect, type Connection } from './connect.js';
import { Output, table } from './io.js';
import { UsageError } from './usage-error.js';

/** `yak groups`: consumer groups, as Kafka's kafka-consumer-groups.sh shows them. */
export const groupsCommand: Command = {
  name: 'groups',
  summary: 'list, describe consumer groups and reset their offsets',
  help: `Usage: yak groups [list] [--json]
       yak groups describe GROUP [--json]
       yak groups reset-offsets GROUP (--to-earliest | --to-latest | --to-datetime TIME | --to-offset N)
                                      [--topic TOPIC [--partitions 0,1,...]] [--execute]

list            every group: state, generation, members and total lag
describe        the group's state, generation and members, and per partition the committed offset,
                the high-water mark, the lag (high-water mark - committed) and who holds it
reset-offsets   move the group's committed offsets (backwards too); only while the group has no
                members (stop its consumers first). Without --execute it only shows what it would
                do (as kafka-consumer-groups.sh). Without --topic, every topic the group has
                offsets for. Needs admin with --auth-file.

Options:
      --to-earliest       the log start of each partition
      --to-latest         the high-water mark of each partition (skip everything so far)
      --to-datetime TIME  the first record at or after TIME (ISO 8601, e.g. 2026-11-29T05:00:00Z,
                          or milliseconds since the epoch)
      --to-offset N       offset N of each partition named
      --topic TOPIC       reset this topic only
      --partitions LIST   with --topic: these partitions only (comma-separated)
      --execute           do it (without it: a dry run)
      --json              list, describe: JSON (one object per group for list)`,
  options: {
    json: { type: 'boolean' },
    'to-earliest': { type: 'boolean' },
    'to-latest': { type: 'boolean' },
    'to-datetime': { type: 'string' },
    'to-offset': { type: 'string' },
    topic: { type: 'string' },
    partitions: { type: 'string' },
    execute: { type: 'boolean' },
  },
  async run({ values, positionals }, connection, io) {
    const [action = 'list', ...rest] = positionals;
    const allowed: Record<string, string[]> = {
      list: ['json'],
      describe: ['json'],
      'reset-offsets': ['to-earliest', 'to-latest', 'to-datetime', 'to-offset', 'topic', 'partitions', 'execute'],
    };
    const own = allowed[action];
    if (!own) throw new UsageError(`unknown action '${action}'; use list, describe or reset-offsets (see yak groups --help)`);
    for (const name of Object.keys(groupsCommand.options)) {
      if (values[name] !== undefined && !own.includes(name)) throw new UsageError(`--${name} is not an option of ${action}`);
    }
    const out = new Output(io.stdout);
    if (action === 'list') return list(expectPositionals('groups list', rest, []), values, connection, out);
    if (action === 'describe') return describe(expectPositionals('groups describe', rest, ['GROUP'])[0]!, values, connection, out);
    return reset(expectPositionals('groups reset-offsets', rest, ['GROUP'])[0]!, values, connection, out);
  },
};

async function list(_: string[], values: Values, connection: Connection, out: Output): Promise<void> {
  const { groups } = await connect(connection).groups();
  if (values['json'] === true) {
    await out.write(groups.map((g) => `${JSON.stringify(g)}\n`).join(''));
    return;
  }
  const rows = groups.map((g) => [g.group, g.state, String(g.generation), String(g.members), String(g.lag)]);
  await out.write(table([['GROUP', 'STATE', 'GENERATION', 'MEMBERS', 'LAG'], ...rows]));
}

async function describe(group: string, values: Values, connection: Connection, out: Output): Promise<void> {
  const g = await connect(connection).describeGroup(group);
  if (values['json'] === true) {
    await out.write(`${JSON.stringify(g)}\n`);
    return;
  }
  const clients = new Map(g.members.map((m) => [m.member_id, m.client_id]));
  await out.write(`group ${g.group}: ${g.state}, generation ${g.generation}, ${g.members.length} member${g.members.length === 1 ? '' : 's'}${g.protocol ? `, strategy ${g.protocol}` : ''}, lag ${g.lag}\n`);
  const rows = g.offsets.map((row) => [
    row.topic,
    String(row.partition),
    row.committed_offset === null ? '-' : String(row.committed_offset),
    String(row.high_watermark),
    row.lag === null ? '-' : String(row.lag),
    row.member_id ?? '-',
    row.member_id ? (clients.get(row.member_id) ?? '-') : '-',
  ]);
  await out.write(table([['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'HIGH-WATERMARK', 'LAG', 'MEMBER-ID', 'CLIENT-ID'], ...rows]));
}

async function reset(group: string, values: Values, connection: Connection, out: Output): Promise<void> {
  const targets = ['to-earliest', 'to-latest', 'to-datetime', 'to-offset'].filter((n) => values[n] !== undefined);
  if (targets.length !== 1) throw new UsageError('give exactly one of --to-earliest, --to-latest, --to-datetime TIME, --to-offset N');
  let to: ResetOffsetsInput;
  if (values['to-earliest'] === true) to = { to: 'earliest' };
  else if (values['to-latest'] === true) to = { to: 'latest' };
  else if (values['to-datetime'] !== undefined) to = { to: 'timestamp', timestamp: parseTime(stringValue(values, 'to-datetime')!) };
  else {
    const text = stringValue(values, 'to-offset')!;
    if (!/^\d+$/.test(text)) throw new UsageError(`--to-offset must be a whole number; got '${text}'`);
    to = { to: 'offset', offset: Number(text) };
  }
  const topic = stringValue(values, 'topic');
  const partitionsText = stringValue(values, 'partitions');
  if (partitionsText !== undefined && topic === undefined) throw new UsageError('--partitions needs --topic');
  const partitions = partitionsText?.split(',').map((p) => {
    if (!/^\d+$/.test(p.trim())) throw new UsageError(`--partitions must be comma-separated whole numbers; got '${partitionsText}'`);
    return Number(p.trim());
  });
  const execute = values['execute'] === true;
  const answer = await connect(connection).resetOffsets(group, { ...to, ...(topic ? { topic } : {}), ...(partitions ? { partitions } : {}), dryRun: !execute });
  const rows = answer.offsets.map((committed) => [committed.topic, String(committed.partition), String(committed.committed_offset)]);
  await out.write(table([['TOPIC', 'PARTITION', 'NEW-OFFSET'], ...rows]));
  await out.write(execute ? `reset ${rows.length} offset${rows.length === 1 ? '' : 's'} of group ${group}\n` : 'dry run: nothing changed (add --execute to reset)\n');
}

function parseTime(text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms) || ms < 0) throw new UsageError(`--to-datetime must be an ISO 8601 time or milliseconds since the epoch; got '${text}'`);
  return ms;
}
