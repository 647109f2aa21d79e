import { YakClientError, type YakClient } from '../client/index.js';
import { expectPositionals, intOption, stringValue, type Values } from './args.js';
import type { Command } from './command.js';
import { connectToLeader } from './connect.js';
import { Output } from './io.js';
import { parseOffsetSpec, startOffset } from './offset-spec.js';
import { compileFormat, jsonLine, type Formatter } from './record-format.js';
import { CommandError, UsageError } from './usage-error.js';

export const consumeCommand: Command = {
  name: 'consume',
  summary: 'print a topic\'s records (kcat -C); --follow to wait for new ones',
  help: `Usage: yak consume TOPIC [options]

Prints the committed records of one partition or of all, then exits at the end of each
(kcat -e); with --follow it keeps waiting for new records (long polls) until Ctrl-C or --count.
Records are read from the leader when it answers, else from any broker.

Options:
  -p, --partition N       only partition N (default: every partition)
  -o, --offset WHERE      beginning (default), end, an offset N, or -N (N records before the end),
                          in every partition read; timestamps (kcat's s@T) are not supported: the
                          broker has no lookup by time yet
  -c, --count N           exit after N records
      --follow            keep waiting for new records instead of exiting at the end
      --wait-ms MS        how long one long poll waits with --follow (default 5000, at most 30000)
      --max N             records per request (default 500, at most 10000)
Output (default: the value of each record, one per line; a string payload as its text, any other
JSON value as JSON):
  -K, --key-delimiter D   print key, D, value (e.g. "-K:" for key:value)
  -f, --format FMT        kcat-style: %t topic, %p partition, %o offset, %k key, %s value,
                          %S value bytes, %h headers (k=v,k=v), %T timestamp ms, %%; \\n \\t
                          escapes; no newline is added (end FMT with \\n)
      --json              one JSON object per record: topic, partition, offset, key, payload,
                          timestamp, headers

Exit code 0 at the end (or Ctrl-C with --follow); 1 for an unknown topic or partition or an
unreachable cluster; 2 for a usage error.`,
  options: {
    partition: { type: 'string', short: 'p' },
    offset: { type: 'string', short: 'o' },
    count: { type: 'string', short: 'c' },
    follow: { type: 'boolean' },
    'wait-ms': { type: 'string' },
    max: { type: 'string' },
    'key-delimiter': { type: 'string', short: 'K' },
    format: { type: 'string', short: 'f' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals }, connection, io) {
    const [topic] = expectPositionals('consume', positionals, ['TOPIC']);
    const format = formatter(values);
    const spec = parseOffsetSpec(stringValue(values, 'offset'));
    const only = intOption(values, 'partition', 0);
    const count = intOption(values, 'count', 1);
    const follow = values['follow'] === true;
    const waitMs = intOption(values, 'wait-ms', 1, 30_000) ?? 5000;
    const max = intOption(values, 'max', 1, 10_000) ?? 500;
    if (values['wait-ms'] !== undefined && !follow) throw new UsageError('--wait-ms goes with --follow');

    const client = await connectToLeader(connection);
    const found = (await client.topics()).topics.find((t) => t.name === topic);
    if (!found) throw new CommandError(`topic '${topic}' does not exist${connection.hasToken ? ' (or the token may not consume it)' : ''}; yak topics lists them`);
    const partitions = found.partitions.filter((p) => only === undefined || p.partition === only);
    if (partitions.length === 0) throw new CommandError(`topic '${topic}' has no partition ${only} (it has ${found.partitions.length}: 0..${found.partitions.length - 1})`);

    const reader = new TopicReader(client, topic!, format, new Output(io.stdout), { follow, waitMs, max, left: count ?? Infinity });
    const starts = partitions.map((p) => ({ partition: p.partition, offset: startOffset(spec, p.high_watermark) }));
    if (!follow) {
      for (const s of starts) await reader.read(s.partition, s.offset);
      return;
    }
    await reader.follow(starts);
  },
};

function formatter(values: Values): Formatter {
  const chosen = ['key-delimiter', 'format', 'json'].filter((name) => values[name] !== undefined);
  if (chosen.length > 1) throw new UsageError(`${chosen.map((n) => `--${n}`).join(' and ')} both choose the output; give one`);
  if (values['json'] === true) return jsonLine;
  const format = stringValue(values, 'format');
  if (format !== undefined) return compileFormat(format);
  const delimiter = stringValue(values, 'key-delimiter');
  return compileFormat(delimiter !== undefined ? `%k${delimiter.replaceAll('%', '%%')}%s\n` : '%s\n');
}

interface ReadOptions {
  follow: boolean;
  waitMs: number;
  max: number;
  /** Records still to print (--count); Infinity without it. */
  left: number;
}

/** Reads partitions page by page and prints each page as one write. */
class TopicReader {
  private readonly stop = new AbortController();

  constructor(
    private readonly client: YakClient,
    private readonly topic: string,
    private readonly format: Formatter,
    private readonly out: Output,
    private readonly options: ReadOptions,
  ) {}

  /** Up to the partition's high-water mark (or forever with follow), or until --count is reached. */
  async read(partition: number, offset: number): Promise<void> {
    while (this.options.left > 0 && !this.stop.signal.aborted) {
      const page = await this.client.consume(this.topic, partition, offset, {
        max: Math.min(this.options.max, this.options.left),
        ...(this.options.follow ? { waitMs: this.options.waitMs } : {}),
        signal: this.stop.signal,
      });
      const records = page.records.slice(0, this.options.left);
      this.options.left -= records.length;
      await this.out.write(records.map((record) => this.format({ topic: this.topic, partition, record })).join(''));
      offset = page.next_offset;
      if (this.options.left <= 0) this.stop.abort();
      if (!this.options.follow && (offset >= page.high_watermark || page.records.length === 0)) return;
    }
  }

  /** Every partition at once, each with its own long poll, until Ctrl-C, SIGTERM or --count. */
  async follow(starts: { partition: number; offset: number }[]): Promise<void> {
    const quit = () => this.stop.abort();
    process.once('SIGINT', quit);
    process.once('SIGTERM', quit);
    try {
      await Promise.all(
        starts.map((s) =>
          this.read(s.partition, s.offset).catch((err: unknown) => {
            if (this.stop.signal.aborted && err instanceof YakClientError && err.code === 'ABORTED') return;
            this.stop.abort();
            throw err;
          }),
        ),
      );
    } finally {
      process.off('SIGINT', quit);
      process.off('SIGTERM', quit);
    }
  }
}
