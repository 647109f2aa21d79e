import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError, parseOptions, type BenchOptions } from '../../../bench/options.js';

const parse = (...argv: string[]) => parseOptions(argv, '/tmp/r.json') as BenchOptions;

test('bench options: auth and TLS are off unless asked for', () => {
  const o = parse('--quick');
  assert.equal(o.auth, false);
  assert.equal(o.tls, false);
  assert.equal(o.securityMatrix, false);
});

test('bench options: --auth and --tls combine with each other and with --only', () => {
  const o = parse('--smoke', '--auth', '--tls', '--only', 'single,batch');
  assert.deepEqual([o.auth, o.tls, o.mode, o.only], [true, true, 'smoke', ['single', 'batch']]);
});

test('bench options: --security-matrix runs single and batch, and refuses --auth, --tls and --only', () => {
  const o = parse('--quick', '--security-matrix');
  assert.equal(o.securityMatrix, true);
  assert.deepEqual(o.only, ['single', 'batch']);
  for (const extra of [['--auth'], ['--tls'], ['--only', 'batch']]) {
    assert.throws(() => parse('--security-matrix', ...extra), UsageError, extra.join(' '));
  }
});

test('bench options: the default run includes 10,000 partitions; --quick and --smoke fewer; --partitions sets it', () => {
  const full = parse();
  assert.ok(full.only.includes('partitions'), 'the default full run has the partitions workload');
  assert.equal(full.manyPartitions, 10_000);
  assert.ok(parse('--quick').manyPartitions < 1000);
  assert.ok(parse('--smoke').manyPartitions < 100);
  assert.equal(parse('--quick', '--partitions', '3000').manyPartitions, 3000);
  for (const bad of ['0', '2', '1.5', 'many']) assert.throws(() => parse('--partitions', bad), UsageError, bad);
});
