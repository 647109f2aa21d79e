import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TestCluster } from '../../../testkit/broker/cluster.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

interface Block {
  line: number;
  code: string;
}

/** The ```js blocks of a markdown file, except those marked `<!-- doc-test: skip (why) -->` on one of the two lines before. */
function jsBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```js') continue;
    const end = lines.indexOf('```', i + 1);
    const before = lines.slice(Math.max(0, i - 2), i).join('\n');
    if (!/<!-- doc-test: skip \(.+\) -->/.test(before)) blocks.push({ line: i + 1, code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

/**
 * docs/client.md promises its examples run as they stand: each ```js block is saved as a module in a
 * project whose node_modules/yak is this repository, and run, in order, against a real broker.
 */
let cluster: TestCluster;
let project: string;

before(async () => {
  cluster = await TestCluster.start({ brokers: 1, partitions: 3 });
  project = await mkdtemp(join(tmpdir(), 'yak-docs-'));
  await mkdir(join(project, 'node_modules'));
  await symlink(REPO, join(project, 'node_modules', 'yak'), 'dir');
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'docs-examples', type: 'module', private: true }));
});
after(async () => {
  await cluster?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

test('every example in docs/client.md runs against a real broker', async (t) => {
  const blocks = jsBlocks(await readFile(join(REPO, 'docs', 'client.md'), 'utf8'));
  assert.ok(blocks.length >= 7, `found ${blocks.length} runnable blocks`);
  for (const block of blocks) {
    const file = join(project, `example-line-${block.line}.mjs`);
    await writeFile(file, block.code);
    const r = await run(file, { ...process.env, YAK_BROKERS: cluster.urls().join(',') });
    t.diagnostic(`docs/client.md:${block.line}: ${r.stdout.trim().split('\n')[0] ?? ''}`);
    assert.equal(r.status, 0, `the block at docs/client.md:${block.line} failed:\n${r.stderr}`);
    assert.notEqual(r.stdout.trim(), '', `the block at docs/client.md:${block.line} printed nothing`);
  }
});

function run(file: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
