import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');

/** Every file reachable from `entry` by relative imports, and every import that is not relative. */
function moduleGraph(entry: string): { files: string[]; external: Set<string> } {
  const files: string[] = [];
  const external = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (files.includes(file)) continue;
    files.push(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) todo.push(resolve(dirname(file), spec));
      else external.add(spec);
    }
  }
  return { files, external };
}

/**
 * The package as npm would install it (`npm pack`, unpacked into a project's node_modules/yak with
 * nothing else there): `yak/client` imports by name, with types, and needs none of the broker's
 * dependencies; the `yak` bin runs from it.
 */
describe('the packed yak package, installed in a project without express or ioredis', () => {
  let project: string;
  let installed: string;

  before(async () => {
    assert.ok(existsSync(join(REPO, 'broker-runtime/dist/client/index.js')), 'build the broker first: npm run build:broker');
    project = await mkdtemp(join(tmpdir(), 'yak-pkg-'));
    installed = join(project, 'node_modules', 'yak');
    await mkdir(installed, { recursive: true });
    const packed = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', project], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const tarball = join(project, (JSON.parse(packed) as { filename: string }[])[0]!.filename);
    execFileSync('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'uses-yak', type: 'module', private: true }));
  });
  after(async () => {
    if (project) await rm(project, { recursive: true, force: true });
  });

  test('import("yak/client") and import("yak") give the client and its error classes', () => {
    const script = `
      const client = await import('yak/client');
      const root = await import('yak');
      const c = new client.YakClient({ brokers: ['http://127.0.0.1:5001'] });
      console.log(JSON.stringify({
        same: root.YakClient === client.YakClient,
        exports: Object.keys(client).sort(),
        knownLeader: c.knownLeader,
      }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: project, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { same: boolean; exports: string[]; knownLeader: null };
    assert.equal(out.same, true);
    for (const name of ['YakClient', 'YakClientError', 'YakUnauthenticatedError', 'YakForbiddenError', 'YakThrottledError', 'YakRetriesExhaustedError', 'withRetry']) {
      assert.ok(out.exports.includes(name), `yak/client exports ${name}`);
    }
    assert.equal(existsSync(join(project, 'node_modules', 'express')), false, 'nothing but yak is installed');
    assert.ok(existsSync(join(installed, 'docs', 'client.md')), 'the client\'s documentation is packed with it');
  });

  test("the client's module graph imports only node: builtins; the CLI's reaches only the client and itself", () => {
    const dist = join(installed, 'broker-runtime', 'dist');
    const client = moduleGraph(join(dist, 'client', 'index.js'));
    assert.deepEqual([...client.external].filter((s) => !s.startsWith('node:')), [], 'client imports');
    // The client's own folder, and the wire's error table (pure data, no imports).
    const clientFile = (f: string) => f.startsWith(join(dist, 'client') + sep) || f === join(dist, 'errors', 'error-table.js');
    assert.ok(client.files.every(clientFile), `client files: ${client.files.map((f) => relative(dist, f))}`);

    const cli = moduleGraph(join(dist, 'cli-tool', 'index.js'));
    assert.deepEqual([...cli.external].filter((s) => !s.startsWith('node:')), [], 'CLI imports');
    const outside = cli.files.filter((f) => !clientFile(f) && !f.startsWith(join(dist, 'cli-tool') + sep));
    assert.deepEqual(outside.map((f) => relative(dist, f)), [], 'the CLI uses the client, never server code');
  });

  test('the types resolve: a TypeScript file importing yak/client typechecks (NodeNext)', async () => {
    await writeFile(join(project, 'use.ts'), `
      import { YakClient, YakClientError, type ConsumeAnswer, type ProduceAnswer } from 'yak/client';
      const client = new YakClient({ brokers: ['http://127.0.0.1:5001'], retry: { retries: 3 } });
      export const sent: Promise<ProduceAnswer> = client.produce('orders', { key: 'k', payload: { total: 42 }, headers: { a: 'b' } });
      export const page: Promise<ConsumeAnswer<{ total: number }>> = client.consume<{ total: number }>('orders', 0, 0, { waitMs: 1000 });
      export const isError = (e: unknown): boolean => e instanceof YakClientError && e.retriable;
      // @ts-expect-error payload is required
      void client.produce('orders', { key: 'k' });
    `);
    await writeFile(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, typeRoots: [join(REPO, 'node_modules', '@types')], types: ['node'] },
      files: ['use.ts'],
    }));
    const r = spawnSync(process.execPath, [TSC, '-p', project], { cwd: project, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  test('the yak bin runs from the package: --help and --version', () => {
    const bin = join(installed, (JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin['yak']!);
    const help = spawnSync(process.execPath, [bin, '--help'], { cwd: project, encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: yak <command>/);
    const version = spawnSync(process.execPath, [bin, '--version'], { cwd: project, encoding: 'utf8' });
    assert.equal(version.stdout.trim(), `yak ${(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version}`);
  });
});
