import { createInterface } from 'node:readline';
import type { Compression, ProduceInput, YakClient } from '../client/index.js';
import { expectPositionals, intOption, stringValue } from './args.js';
import type { Command } from './command.js';
import { connect } from './connect.js';
import { Output } from './io.js';
import { type LineRules, parseHeaders, parseValueMode, recordFromLine } from './produce-lines.js';
import { UsageError } from './usage-error.js';

const COMPRESSIONS = ['none', 'gzip', 'lz4'] as const;

/** Under the broker's 1 MiB default request limit with room for the JSON around the records. */
const BATCH_BYTES = 512 * 1024;

export const produceCommand: Command = {
  name: 'produce',
  summary: 'produce stdin lines as records (kcat -P)',
  help: `Usage: yak produce TOPIC [options] < lines

Reads stdin line by line; every non-empty line is one record. A line that is JSON is sent as that
JSON value, any other line as a string (see --value). Records go to the leader in batches, each
committed before the next is sent, so their order is kept per partition.

Options:
  -K, --key-delimiter D   split each line at the first D into key and value ("-K:" for k:v lines);
                          a line without D has no key
  -k, --key KEY           the key of every record
  -H, --header NAME=VALUE a header of every record (repeat for more)
  -p, --partition N       every record to partition N (else the key's partition, or round-robin)
      --value MODE        auto (default): JSON lines as JSON, others as strings; string: every
                          line a string; json: a line that is not JSON is an error
      --batch-size N      records per request (default 500, at most 10000)
      --linger-ms MS      send a partial batch once stdin is quiet this long (default 50)
      --print-offsets     print {"topic","partition","offset"} per acknowledged record
      --compression C     store each batch compressed: none (default), gzip or lz4 (used when
                          the topic's compression.type is producer, its default)

Exit code 0 once every line is acknowledged; 1 when a batch is refused or the cluster cannot be
reached (the message says how many records were acknowledged before); 2 for a usage error.`,
  options: {
    'key-delimiter': { type: 'string', short: 'K' },
    key: { type: 'string', short: 'k' },
    header: { type: 'string', short: 'H', multiple: true },
    partition: { type: 'string', short: 'p' },
    value: { type: 'string' },
    'batch-size': { type: 'string' },
    'linger-ms': { type: 'string' },
    'print-offsets': { type: 'boolean' },
    compression: { type: 'string' },
  },
  async run({ values, positionals }, connection, io) {
    const [topic] = expectPositionals('produce', positionals, ['TOPIC']);
    const keyDelimiter = stringValue(values, 'key-delimiter');
    const key = stringValue(values, 'key');
    if (keyDelimiter !== undefined && key !== undefined) throw new UsageError('give -K (key from each line) or -k (one key for all), not both');
    if (keyDelimiter === '') throw new UsageError('-K/--key-delimiter must not be empty');
    const partition = intOption(values, 'partition', 0);
    const rules: LineRules = {
      ...(keyDelimiter !== undefined ? { keyDelimiter } : {}),
      ...(key !== undefined ? { key } : {}),
      ...(partition !== undefined ? { partition } : {}),
      headers: parseHeaders((values['header'] as string[] | undefined) ?? []),
      value: parseValueMode(stringValue(values, 'value')),
    };
    const compression = stringValue(values, 'compression');
    if (compression !== undefined && !(COMPRESSIONS as readonly string[]).includes(compression)) throw new UsageError(`--compression must be one of ${COMPRESSIONS.join(', ')}, got '${compression}'`);
    const producer = new LineProducer(connect(connection), topic!, new Output(io.stdout), values['print-offsets'] === true, compression as Compression | undefined);
    await producer.run(io.stdin, rules, intOption(values, 'batch-size', 1, 10_000) ?? 500, intOption(values, 'linger-ms', 0, 60_000) ?? 50);
  },
};

const QUIET = Symbol('quiet');

/** Lines in, batches out: a batch is sent when full, when stdin is quiet for `lingerMs`, and at the end. */
class LineProducer {
  private pending: ProduceInput[] = [];
  private pendingBytes = 0;
  acknowledged = 0;

  constructor(
    private readonly client: YakClient,
    private readonly topic: string,
    private readonly out: Output,
    private readonly printOffsets: boolean,
    private readonly compression: Compression | undefined,
  ) {}

  async run(input: NodeJS.ReadableStream, rules: LineRules, batchSize: number, lingerMs: number): Promise<void> {
    const lines = createInterface({ input, crlfDelay: Infinity })[Symbol.asyncIterator]();
    let lineNumber = 0;
    let next = lines.next();
    for (;;) {
      const step = this.pending.length > 0 ? await raceTimer(next, lingerMs) : await next;
      if (step === QUIET) {
        await this.flush();
        continue;
      }
      if (step.done) break;
      next = lines.next();
      lineNumber++;
      if (step.value.length === 0) continue;
      let record: ProduceInput;
      try {
        record = recordFromLine(step.value, lineNumber, rules);
      } catch (err) {
        await this.flush();
        throw err;
      }
      const bytes = Buffer.byteLength(JSON.stringify(record));
      if (this.pending.length > 0 && this.pendingBytes + bytes > BATCH_BYTES) await this.flush();
      this.pending.push(record);
      this.pendingBytes += bytes;
      if (this.pending.length >= batchSize) await this.flush();
    }
    await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    let answer;
    try {
      answer = await this.client.produceBatch(this.topic, batch, this.compression ? { compression: this.compression } : {});
    } catch (err) {
      throw new ProduceFailed(this.acknowledged, err);
    }
    this.acknowledged += batch.length;
    if (this.printOffsets) {
      await this.out.write(answer.results.map((r) => `${JSON.stringify({ topic: this.topic, partition: r.partition, offset: r.offset })}\n`).join(''));
    }
  }
}

/** A failed batch, carrying how many records were acknowledged before it (they stay committed). */
export class ProduceFailed extends Error {
  constructor(
    readonly acknowledged: number,
    override readonly cause: unknown,
  ) {
    super(`produce failed after ${acknowledged} acknowledged record(s)`, { cause });
    this.name = 'ProduceFailed';
  }
}

function raceTimer<T>(promise: Promise<T>, ms: number): Promise<T | typeof QUIET> {
  let timer: NodeJS.Timeout | undefined;
  const quiet = new Promise<typeof QUIET>((resolve) => {
    timer = setTimeout(() => resolve(QUIET), ms);
  });
  return Promise.race([promise, quiet]).finally(() => clearTimeout(timer));
}
