import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { BROKER_BIN } from '../../../testkit/broker/process.js';

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
