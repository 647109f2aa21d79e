import { YakClientError } from '../client/index.js';
import { expectPositionals, intOption, type Values } from './args.js';
import type { Command } from './command.js';
import { connect, connectToLeader, type Connection } from './connect.js';
import { Output, table } from './io.js';
import { CommandError, UsageError } from './usage-error.js';

export const topicsCommand: Command = {
  name: 'topics',
  summary: 'list, create and describe topics',
  help: `Usage: yak topics [list] [--json]
       yak topics create NAME --partitions N [--if-not-exists]
       yak topics describe NAME [--json]

list       every topic (those the token may use, with --auth-file): name, partitions, and the
           sum of its partitions' high-water marks (records committed)
create     a topic with N partitions (needs admin with --auth-file); an existing topic is an
           error unless --if-not-exists
describe   per partition: high-water mark and log end offset (on the broker that answered)

Options:
  -p, --partitions N      partitions of the new topic (create; 1 to 1000)
      --if-not-exists     create: exit 0 when the topic exists already
      --json              list: one JSON object per topic; describe: the topic as one JSON object`,
  options: {
    partitions: { type: 'string', short: 'p' },
    'if-not-exists': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals }, connection, io) {
    const [action = 'list', ...rest] = positionals;
    const allowed: Record<string, string[]> = { list: ['json'], create: ['partitions', 'if-not-exists'], describe: ['json'] };
    const own = allowed[action];
    if (!own) throw new UsageError(`unknown action '${action}'; use list, create or describe (see yak topics --help)`);
    for (const name of ['partitions', 'if-not-exists', 'json']) {
      if (values[name] !== undefined && !own.includes(name)) throw new UsageError(`--${name} is not an option of ${action}`);
    }
    const out = new Output(io.stdout);
    if (action === 'list') return list(expectPositionals('topics list', rest, []), values, connection, out);
    if (action === 'create') return create(expectPositionals('topics create', rest, ['NAME'])[0]!, values, connection, out);
    return describe(expectPositionals('topics describe', rest, ['NAME'])[0]!, values, connection, out);
  },
};

async function list(_: string[], values: Values, connection: Connection, out: Output): Promise<void> {
  const { topics } = await (await connectToLeader(connection)).topics();
  const sorted = [...topics].sort((a, b) => a.name.localeCompare(b.name));
  if (values['json'] === true) {
    await out.write(sorted.map((t) => `${JSON.stringify(t)}\n`).join(''));
    return;
  }
  const rows = sorted.map((t) => [t.name, String(t.partitions.length), String(t.partitions.reduce((sum, p) => sum + p.high_watermark, 0))]);
  await out.write(table([['TOPIC', 'PARTITIONS', 'COMMITTED'], ...rows]));
}

async function create(name: string, values: Values, connection: Connection, out: Output): Promise<void> {
  const partitions = intOption(values, 'partitions', 1, 1000);
  if (partitions === undefined) throw new UsageError('--partitions N is required');
  try {
    await connect(connection).createTopic(name, partitions);
  } catch (err) {
    if (err instanceof YakClientError && err.code === 'TOPIC_EXISTS' && values['if-not-exists'] === true) {
      await out.write(`topic ${name} exists already\n`);
      return;
    }
    throw err;
  }
  await out.write(`created topic ${name} with ${partitions} partition${partitions === 1 ? '' : 's'}\n`);
}

async function describe(name: string, values: Values, connection: Connection, out: Output): Promise<void> {
  const { topics } = await (await connectToLeader(connection)).topics();
  const topic = topics.find((t) => t.name === name);
  if (!topic) throw new CommandError(`topic '${name}' does not exist${connection.hasToken ? ' (or the token may not use it)' : ''}; yak topics lists them`);
  if (values['json'] === true) {
    await out.write(`${JSON.stringify(topic)}\n`);
    return;
  }
  const rows = topic.partitions.map((p) => [String(p.partition), String(p.high_watermark), p.log_end_offset === undefined ? '-' : String(p.log_end_offset)]);
  await out.write(`topic ${topic.name}: ${topic.partitions.length} partition${topic.partitions.length === 1 ? '' : 's'}\n`);
  await out.write(table([['PARTITION', 'HIGH_WATERMARK', 'LOG_END_OFFSET'], ...rows]));
}

