import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BROKER_BIN } from '../../../testkit/broker/process.js';
import { freePort } from '../../../testkit/ports.js';
import { tempDir } from '../../../testkit/temp-dir.js';
import { waitFor } from '../../../testkit/wait.js';

const YAK_BIN = fileURLToPath(new URL('../../../broker-runtime/bin/yak.js', import.meta.url));

test('--help lists every flag and exits 0', () => {
  const r = spawnSync(process.execPath, [BROKER_BIN, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  for (const flag of ['--id', '--host', '--port', '--advertised-url', '--data-dir', '--redis', '--cluster', '--lease-seconds', '--renew-seconds', '--partitions', '--min-insync']) {
    assert.ok(r.stdout.includes(flag), `help mentions ${flag}`);
  }
});

test('a bad flag or value stops the broker with one line naming it and exit code 2', () => {
  for (const args of [['--port', 'http'], ['--lease-seconds', '-1'], ['--nope'], ['--renew-seconds', '20', '--lease-seconds', '10']]) {
    const r = spawnSync(process.execPath, [BROKER_BIN, ...args], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.ok(lines[0]!.includes(args[0]!.replace(/^--/, '')), `${lines[0]} names ${args[0]}`);
  }
});

test('a broker started before redis-server says that nothing listens there and what to do; yak says why there is no leader', async () => {
  const [port, redisPort] = [await freePort(), await freePort()];
  const tmp = await tempDir('yak-no-redis-');
  const broker = spawn(process.execPath, [BROKER_BIN, '--id', 'b1', '--port', String(port), '--data-dir', join(tmp.dir, 'b1'), '--redis', `redis://127.0.0.1:${redisPort}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  broker.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  try {
    const warning = await waitFor('the Redis warning', () => stderr.split('\n').find((l) => l.includes(' WARN ')), 30_000);
    assert.match(warning, new RegExp(`redis \\(redis://127\\.0\\.0\\.1:${redisPort}\\): cannot connect \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${redisPort}\\): nothing listens there; start redis-server .* or point --redis / REDIS_URL at your Redis`));
    assert.doesNotMatch(warning, /maxRetriesPerRequest/, 'ioredis\'s option name is not the problem');
    // The yak CLI against that broker: it answers, but names no leader; both commands say where to look.
    const yak = (args: string[], input = '') => spawnSync(process.execPath, [YAK_BIN, '-b', `http://127.0.0.1:${port}`, ...args], { encoding: 'utf8', input, timeout: 30_000 });
    const cluster = yak(['cluster']);
    assert.equal(cluster.status, 0, cluster.stderr);
    assert.match(cluster.stdout, /leader none/);
    assert.match(cluster.stderr, /^yak cluster: no leader yet; brokers elect one within seconds of reaching Redis: check that redis-server runs and every broker's --redis/);
    const produce = yak(['produce', 'orders', '--retries', '1'], 'x\n');
    assert.equal(produce.status, 1, produce.stderr);
    assert.match(produce.stderr, /^yak produce: the cluster has no leader \(.*\); brokers elect one within seconds of reaching Redis/);
  } finally {
    broker.kill('SIGKILL');
    await new Promise((resolve) => broker.once('exit', resolve));
    await tmp.cleanup();
  }
});

test('a port already in use stops the broker with one line saying what to do, exit code 2', async () => {
  const holder = createServer();
  const port = await new Promise<number>((resolve) => holder.listen(0, '127.0.0.1', () => resolve((holder.address() as { port: number }).port)));
  const tmp = await tempDir('yak-port-used-');
  try {
    const r = spawnSync(process.execPath, [BROKER_BIN, '--id', 'b1', '--port', String(port), '--data-dir', join(tmp.dir, 'b1'), '--redis', 'redis://127.0.0.1:1'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^yak-broker: port ${port} on 127\\.0\\.0\\.1 is already in use \\(--port / PORT\\): stop what listens there .* or give another port$`, 'm'));
  } finally {
    holder.close();
    await tmp.cleanup();
  }
});
