import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../../testkit/ports.js';

/**
 * The README's shell blocks work when pasted: every ```sh block not marked
 * `<!-- readme-test: skip (why) -->` is run, in order, in one bash shell, in a fresh folder that
 * links the repository's node_modules and broker-runtime — on free ports (the README's 6379 and 5001-5003 are
 * rewritten), with its output checked against what the README says it prints.
 *
 * A block marked `<!-- readme-test: before-stop (why) -->` is meant for the walkthrough's running
 * cluster: it runs just before the block that stops it (the first earlier block with
 * `kill $(jobs -p)`), as a reader would paste it. In such blocks `npx yak` runs the same bin
 * directly (npx would link the folder into its cache and run its `prepare` build, rebuilding
 * broker-runtime/dist under the brokers of the files beside this one), and a line the README says
 * Ctrl-C stops is stopped with SIGINT after 3 s.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Block {
  code: string;
  line: number;
}

/** The blocks in the order they run: a before-stop block moves in front of the stop before it. */
export function runnableBlocks(markdown: string): { run: Block[]; skipped: Block[] } {
  const run: Block[] = [];
  const skipped: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```sh') continue;
    const end = lines.indexOf('```', i + 1);
    const block = { code: lines.slice(i + 1, end).join('\n'), line: i + 1 };
    const before = lines.slice(Math.max(0, i - 2), i).join('\n');
    if (/<!-- readme-test: skip \(.+\) -->/.test(before)) skipped.push(block);
    else if (/<!-- readme-test: before-stop \(.+\) -->/.test(before)) {
      const stop = run.findIndex((b) => b.code.includes('kill $(jobs -p)'));
      if (stop < 0) throw new Error(`README line ${block.line}: a before-stop block with no earlier block stopping a cluster`);
      run.splice(stop, 0, { ...block, code: forTheWalkthrough(block.code) });
    } else run.push(block);
    i = end;
  }
  return { run, skipped };
}

function forTheWalkthrough(code: string): string {
  return code
    .split('\n')
    .map((line) => line.replace(/\bnpx yak(?= )/g, 'node broker-runtime/bin/yak.js'))
    .map((line) => (/\(Ctrl-C stops\)/.test(line) ? `timeout -s INT 3 ${line}` : line))
    .join('\n');
}

test('the README: every runnable shell block works when pasted, in order', async (t) => {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const { run, skipped } = runnableBlocks(readme);
  assert.ok(run.length >= 3, `found ${run.length} runnable blocks`);
  t.diagnostic(`running ${run.length} block(s), skipping ${skipped.length} marked block(s) at lines ${skipped.map((b) => b.line).join(', ')}`);

  const redisPort = await freePort();
  let base = 0;
  for (let attempt = 0; attempt < 20 && base === 0; attempt++) {
    const p = await freePort();
    if (p < 60_000 && (await Promise.all([1, 2, 3].map(async (i) => portFree(p + i)))).every(Boolean)) base = p;
  }
  assert.ok(base > 0, 'three consecutive free ports');
  const ported = (code: string) =>
    code
      .replaceAll('500$i', '$((' + base + '+$i))')
      .replace(/\b500([1-3])\b/g, (_m, i: string) => String(base + Number(i)))
      .replace(/\b6379\b/g, String(redisPort));
  const script = run.map((b, i) => `echo "@@block ${i}"\n${ported(b.code)}`).join('\n') + '\necho "@@end"\n';

  const dir = await mkdtemp(join(tmpdir(), 'yak-readme-'));
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  await symlink(join(ROOT, 'broker-runtime'), join(dir, 'broker-runtime'));
  const bash = spawn('bash', ['-c', script], {
    cwd: dir,
    detached: true,
    env: { ...process.env, REDIS_URL: `redis://localhost:${redisPort}`, YAK_BROKERS: `http://127.0.0.1:${base + 1}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  bash.stdout.on('data', (c: Buffer) => (out += c.toString()));
  bash.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const timer = setTimeout(() => process.kill(-bash.pid!, 'SIGKILL'), 150_000);
  const code = await new Promise<number | null>((resolve) => bash.on('close', resolve));
  clearTimeout(timer);
  try {
    process.kill(-bash.pid!, 'SIGKILL');
  } catch {
    /* the group is gone: everything was stopped by the README's last block */
  }
  try {
    const logs = await Promise.all(['b1', 'b2', 'b3'].map((b) => readFile(join(dir, `${b}.log`), 'utf8').catch(() => '')));
    const context = `\n--- stdout\n${out}\n--- stderr\n${err}\n--- b*.log\n${logs.join('\n').slice(-3000)}`;
    assert.equal(code, 0, `the blocks exited ${code}${context}`);
    assert.ok(out.includes('@@end'), `every block ran${context}`);
    const sections = out.split(/@@block \d+\n/).slice(1);
    assert.match(sections[0]!, /"leader":\{"id":"b[123]"/, `block 1 shows the elected leader${context}`);
    assert.match(sections[1]!, /\{"topic":"orders","partition":1,"offset":0\}/, `block 2: the produce answer the README shows${context}`);
    assert.match(sections[1]!, /"payload":\{"total":42\}/, `block 2: the consume reads the record back${context}`);
    const cli = sections[2]!;
    assert.match(cli, /^customer-7:\{"total":42\}$/m, `yak CLI: consume -K: prints key:value${context}`);
    assert.match(cli, /^customer-8:hello$/m, `yak CLI: a line that is not JSON went in as a string${context}`);
    assert.match(cli, /^\{"topic":"orders","partition":1,"offset":1,"key":"customer-7","payload":\{"total":42\},"timestamp":\d+,"headers":\{"source":"cli"\}\}$/m, `yak CLI: --json of partition 1${context}`);
    assert.match(cli, /^created topic audit with 2 partitions$/m, `yak CLI: topics create${context}`);
    assert.match(cli, /^audit +2 +0$/m, `yak CLI: topics lists audit${context}`);
    assert.match(cli, /^orders +3 +3$/m, `yak CLI: topics lists orders with its 3 records${context}`);
    assert.match(cli, /^topic orders: 3 partitions\nPARTITION +HIGH_WATERMARK +LOG_END_OFFSET\n/m, `yak CLI: topics describe${context}`);
    assert.match(cli, /^cluster yak +epoch \d+ +leader b[123] .* in-sync b[123],b[123],b[123]$/m, `yak CLI: cluster${context}`);
    assert.doesNotMatch(err, /^yak /m, `no yak command failed${context}`);
    const compression = sections[3]!;
    assert.match(compression, /^\{"name":"clicks","partitions":3,"config":\{[^}]*"compression\.type":"lz4"/m, `Compression: the topic created with lz4${context}`);
    assert.match(compression, /\{"topic":"orders","results":\[\{"partition":\d,"offset":\d+\},\{"partition":\d,"offset":\d+\}\]\}/, `Compression: the gzip batch committed${context}`);
    const ids = sections[4]!.trim().split('\n');
    assert.equal(ids.length, 3, `block 3 prints one line per broker${context}`);
    assert.equal(ids.filter((l) => l === '-').length, 1, `exactly the stopped broker answers nothing${context}`);
    const alive = ids.filter((l) => l !== '-');
    assert.equal(alive[0], alive[1], `the two brokers left agree on the new leader${context}`);
    assert.match(alive[0]!, /^b[123]$/);
    const kafka = sections[5]!.replace('@@end', '');
    assert.match(kafka, /^1@0 customer-7=\{"total":42\} source=kcat\n2@0 customer-8=hello source=kcat\n/, `block 4: kcat reads back what it produced${context}`);
    assert.match(kafka, /"payload":\{"total":42\},"timestamp":\d+,"headers":\{"source":"kcat"\}/, `block 4: REST reads the Kafka record${context}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    import('node:net').then(({ createServer }) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  });
}
