/**
 * The server recipes in deploy/: the systemd unit passes `systemd-analyze verify` (skipped, with
 * the reason, where systemd-analyze is absent), and compose.yaml and the Dockerfile keep their
 * security settings (checked statically: no container runtime is needed or used).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';

const DEPLOY = fileURLToPath(new URL('../../../deploy/', import.meta.url));
const read = (path: string): string => readFileSync(join(DEPLOY, path), 'utf8');
const SYSTEMD_ANALYZE = process.env['SYSTEMD_ANALYZE_BIN'] ?? 'systemd-analyze';

/** The [Service] etc. settings of a unit file: key -> every value it is given. */
function unitSettings(text: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) settings.set(m[1]!, [...(settings.get(m[1]!) ?? []), m[2]!]);
  }
  return settings;
}

describe('deploy/systemd/yak-broker@.service', () => {
  const unit = read('systemd/yak-broker@.service');
  const settings = unitSettings(unit);
  const one = (key: string): string | undefined => settings.get(key)?.at(-1);

  test('runs as a dedicated user, hardened, and stops after the broker\'s own 5 s forced stop', () => {
    assert.equal(one('User'), 'yak');
    assert.equal(one('NoNewPrivileges'), 'yes');
    assert.equal(one('ProtectSystem'), 'strict');
    assert.equal(one('PrivateTmp'), 'yes');
    assert.equal(one('ReadWritePaths'), '/var/lib/yak/%i');
    assert.match(one('ExecStart') ?? '', /yak-broker\.js --id %i --data-dir \/var\/lib\/yak\/%i$/);
    assert.equal(one('Restart'), 'on-failure');
    assert.equal(one('KillSignal'), 'SIGTERM');
    assert.ok(Number(one('TimeoutStopSec')) > 5, `TimeoutStopSec=${one('TimeoutStopSec')} must exceed 5 s`);
    assert.ok(Number(one('LimitNOFILE')) >= 4096);
    assert.equal(one('CapabilityBoundingSet'), '');
    assert.equal(settings.get('MemoryDenyWriteExecute'), undefined, "Node's JIT needs W+X memory");
  });

  test('the env file example names only variables the broker reads', () => {
    const env = read('systemd/yak-broker.env');
    const flags = readFileSync(fileURLToPath(new URL('../../../broker-runtime/src/config/flags.ts', import.meta.url)), 'utf8');
    const names = [...env.matchAll(/^#?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);
    assert.ok(names.length >= 8, names.join(' '));
    for (const name of names) assert.ok(flags.includes(`'${name}'`), `${name} is not a broker setting (broker-runtime/src/config/flags.ts)`);
    assert.match(env, /^AUTH_FILE=/m);
    assert.match(env, /^YAK_HOST=0\.0\.0\.0$/m);
  });

  const missing = spawnSync(SYSTEMD_ANALYZE, ['--version'], { encoding: 'utf8' }).error
    ? `${SYSTEMD_ANALYZE} is not installed (it comes with systemd; or set SYSTEMD_ANALYZE_BIN)`
    : false;

  describe('systemd-analyze verify', { skip: missing }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'yak-unit-'));
    after(() => rmSync(dir, { recursive: true, force: true }));

    /** Verify the template instantiated as `<name>@b1.service`, with ExecStart's node made to exist. */
    function verify(name: string, text: string): { code: number | null; out: string; file: string } {
      const file = join(dir, `${name}@b1.service`);
      writeFileSync(file, text.replaceAll('/usr/bin/node', process.execPath));
      const r = spawnSync(SYSTEMD_ANALYZE, ['verify', file], { encoding: 'utf8', timeout: 60_000 });
      if (r.error) throw r.error;
      return { code: r.status, out: `${r.stdout}${r.stderr}`, file };
    }

    test('finds nothing wrong with the unit', () => {
      const { code, out, file } = verify('yak-broker', unit);
      // Other units on this machine may draw remarks; none may be about this one.
      const ours = out.split('\n').filter((line) => line.includes(file) || line.includes('yak-broker@b1'));
      assert.deepEqual(ours, [], out);
      assert.equal(code, 0, out);
    });

    test('would report a broken directive (so the check above reads this file)', () => {
      const { out, file } = verify('yak-broken', unit.replace('KillSignal=SIGTERM', 'KillSignal=SIGNOPE\nProtectSystm=strict'));
      assert.match(out, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: Failed to parse signal name`));
      assert.match(out, /Unknown key 'ProtectSystm'/);
    });
  });
});

/**
 * compose.yaml's services, by a small hand parse: the top-level `services:` map, each service's
 * text (its indented block), enough for these checks without a YAML dependency.
 */
function composeServices(text: string): Map<string, string> {
  const services = new Map<string, string>();
  const lines = text.split('\n');
  const start = lines.indexOf('services:');
  assert.ok(start >= 0, 'compose.yaml has a top-level services:');
  let name: string | undefined;
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break; // the next top-level key
    const m = /^ {2}([A-Za-z0-9_-]+):\s*$/.exec(line);
    if (m) services.set((name = m[1]!), '');
    else if (name && line.trim() && !line.trimStart().startsWith('#')) services.set(name, `${services.get(name)}${line}\n`);
  }
  return services;
}

describe('deploy/docker/compose.yaml', () => {
  const compose = read('docker/compose.yaml');
  const services = composeServices(compose);
  const brokers = [...services.keys()].filter((s) => s !== 'redis');

  test('Redis and 3 brokers', () => {
    assert.deepEqual([...services.keys()].sort(), ['b1', 'b2', 'b3', 'redis']);
    assert.doesNotMatch(compose, /\t/, 'YAML is indented with spaces');
  });

  test('Redis has a password, is on an internal network and publishes no port', () => {
    const redis = services.get('redis')!;
    assert.doesNotMatch(redis, /^\s+ports:/m);
    assert.match(redis, /--requirepass", "\$\{REDIS_PASSWORD:\?/);
    assert.match(redis, /networks: \[backend\]/);
    assert.match(compose, /^ {2}backend:\n {4}internal: true$/m);
  });

  for (const b of ['b1', 'b2', 'b3']) {
    test(`${b}: auth file read-only, all interfaces, advertised by service name, /ready healthcheck, its own volume`, () => {
      const s = services.get(b)!;
      const port = /--port=(\d+)/.exec(s)?.[1];
      assert.ok(port, 'a --port');
      assert.match(s, new RegExp(`--id=${b}\\b`));
      assert.match(s, /--host=0\.0\.0\.0/);
      assert.match(s, new RegExp(`--advertised-url=http://${b}:${port}\\b`));
      assert.match(s, /--auth-file=\/etc\/yak\/principals\.json/);
      assert.match(s, /target: \/etc\/yak\/principals\.json\n\s+read_only: true/);
      assert.match(s, new RegExp(`PORT: "${port}"`));
      assert.match(s, /REDIS_URL: redis:\/\/:\$\{REDIS_PASSWORD:\?[^}]*\}@redis:6379/);
      assert.match(s, /healthcheck:\n\s+test: \[.*'\/ready'/);
      assert.match(s, new RegExp(`- ${b}-data:/var/lib/yak$`, 'm'));
      assert.match(compose, new RegExp(`^ {2}${b}-data: \\{\\}$`, 'm'));
      assert.match(s, new RegExp(`- "127\\.0\\.0\\.1:${port}:${port}"`), 'published on loopback only');
      assert.match(s, /depends_on:\n\s+redis:\n\s+condition: service_healthy/);
      assert.match(s, /stop_grace_period: (\d+)s/);
      assert.ok(Number(/stop_grace_period: (\d+)s/.exec(s)![1]) > 5);
      assert.match(s, /cap_drop: \[ALL\]/);
      assert.match(s, /read_only: true\n/);
    });
  }

  test('the brokers differ only in id and port', () => {
    const norm = (b: string): string => services.get(b)!.replaceAll(b, 'bN').replace(/500\d/g, '500N');
    for (const b of brokers) assert.equal(norm(b), norm('b1'));
  });
});

describe('deploy/docker/Dockerfile', () => {
  const dockerfile = read('docker/Dockerfile');
  const instructions = dockerfile.replace(/\\\n/g, ' ').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  const runtime = instructions.slice(instructions.findLastIndex((l) => l.startsWith('FROM ')));

  test('node:20-slim, production dependencies only, a non-root user', () => {
    assert.ok(instructions.filter((l) => l.startsWith('FROM ')).every((l) => /^FROM node:20-slim\b/.test(l)));
    assert.ok(runtime.some((l) => /^RUN npm ci --omit=dev --ignore-scripts\b/.test(l)), 'npm ci --omit=dev in the final stage');
    assert.ok(!runtime.some((l) => /npm (ci|install)(?!.*--omit=dev)/.test(l)), 'no dev dependencies in the final stage');
    const user = runtime.filter((l) => l.startsWith('USER ')).at(-1);
    assert.ok(user, 'a USER in the final stage');
    assert.doesNotMatch(user, /^USER (root|0)(:|$)/);
    assert.ok(runtime.findIndex((l) => l.startsWith('USER ')) < runtime.findIndex((l) => l.startsWith('ENTRYPOINT ')));
    assert.match(dockerfile, /HEALTHCHECK[^]*\/ready/);
    assert.match(dockerfile, /^ENTRYPOINT \["node", "\/app\/broker-runtime\/bin\/yak-broker\.js"\]$/m);
  });

  test('copies what package.json ships for the broker, and the broker needs only express, ioredis, lz4-napi and snappy', () => {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as {
      bin: Record<string, string>; files: string[]; dependencies: Record<string, string>;
    };
    assert.equal(pkg.bin['yak-broker'], 'broker-runtime/bin/yak-broker.js');
    for (const dir of ['broker-runtime/bin', 'broker-runtime/dist']) {
      assert.ok(pkg.files.includes(dir));
      assert.ok(runtime.some((l) => l.startsWith('COPY ') && l.includes(` ${dir}`)), `the final stage copies ${dir}`);
    }
    assert.deepEqual(Object.keys(pkg.dependencies).sort(), ['express', 'ioredis', 'lz4-napi', 'snappy']);
    // Every bare import in the broker's sources is a node: builtin or a production dependency.
    const src = spawnSync('grep', ['-rhoE', "from '[^.][^']*'", fileURLToPath(new URL('../../../broker-runtime/src/', import.meta.url))], { encoding: 'utf8' }).stdout;
    const bare = new Set([...src.matchAll(/from '([^']+)'/g)].map((m) => m[1]!).filter((m) => !m.startsWith('node:')));
    assert.deepEqual([...bare].sort(), ['express', 'ioredis']);
    // lz4-napi (log/compression/codecs.ts) and snappy (kafka/protocol/snappy.ts) are loaded on first use, by createRequire, not imported.
    const required = spawnSync('grep', ['-rhoE', "createRequire\\(import\\.meta\\.url\\)\\('[^']+'\\)", fileURLToPath(new URL('../../../broker-runtime/src/', import.meta.url))], { encoding: 'utf8' }).stdout;
    assert.deepEqual([...required.matchAll(/\('([^']+)'\)/g)].map((m) => m[1]).sort(), ['lz4-napi', 'snappy']);
  });

  test('the build context lets in only what the Dockerfile copies', () => {
    const ignore = read('docker/Dockerfile.dockerignore').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    assert.equal(ignore[0], '*');
    assert.ok(!ignore.some((l) => /node_modules|\bdata\b|\.env/.test(l) && l.startsWith('!')));
    for (const l of instructions.filter((i) => /^COPY (?!--from)/.test(i))) {
      for (const path of l.split(/\s+/).slice(1, -1)) assert.ok(ignore.includes(`!${path}`) || ignore.includes(`!${path}/`), `${path} is let into the context`);
    }
  });
});
