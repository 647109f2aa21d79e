import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSecretHash, verifySecret } from '../../../broker-runtime/src/auth/index.js';
import { ensureClusterCredential, KAFKA_CLIENT_PRINCIPAL } from '../../../src/main/supervisor/access/cluster-credential.js';
import { kafkaAccessOf } from '../../../src/main/supervisor/access/kafka-access.js';
import { brokerSpec } from '../../../src/main/supervisor/processes/specs.js';

test('kafkaAccessOf: every running broker in the bootstrap list, a kcat line with SASL/PLAIN', () => {
  const a = kafkaAccessOf(
    [
      { id: 'b1', kafkaPort: 6001, state: 'running' },
      { id: 'b2', kafkaPort: 0, state: 'stopped' },
      { id: 'b3', kafkaPort: 6003, state: 'running' },
    ],
    { username: 'kafka-client', password: 'pw' },
  );
  assert.equal(a.bootstrap, '127.0.0.1:6001,127.0.0.1:6003');
  assert.deepEqual(a.leftOut, []);
  assert.equal(a.kcat, 'kcat -b 127.0.0.1:6001,127.0.0.1:6003 -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN -X sasl.username=kafka-client -X sasl.password=pw -L');
});

test('kafkaAccessOf: a started broker whose process does not run is left out of the list, and named', () => {
  const a = kafkaAccessOf(
    [
      { id: 'b1', kafkaPort: 6001, state: 'running' },
      { id: 'b2', kafkaPort: 6002, state: 'stopped' },
      { id: 'b3', kafkaPort: 6003, state: 'crashed' },
    ],
    { username: 'kafka-client', password: 'pw' },
  );
  assert.equal(a.bootstrap, '127.0.0.1:6001');
  assert.deepEqual(a.leftOut, [
    { id: 'b2', address: '127.0.0.1:6002', state: 'stopped' },
    { id: 'b3', address: '127.0.0.1:6003', state: 'crashed' },
  ]);
  assert.ok(!a.kcat.includes('6002') && !a.kcat.includes('6003'));
});

test('a broker is started with --kafka-port', () => {
  const spec = brokerSpec({ id: 'b1', port: 5001, kafkaPort: 5002, dataDir: '/d', redisUrl: 'redis://x', settings: { brokerCount: 3, leaseSeconds: 2, renewSeconds: 0.5, partitions: 3, minInsync: 1, externalRedisUrl: null }, brokerEntry: 'e.js', execPath: 'node', authFile: null });
  const i = spec.args.indexOf('--kafka-port');
  assert.equal(spec.args[i + 1], '5002');
});

test('the credential: a kafka-client principal with its own secret, no admin; an older file keeps its secret and gains one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'yak-cred-'));
  try {
    // A credential file from before the Kafka principal.
    const old = 'a'.repeat(43);
    await writeFile(join(dir, 'cluster-credential.json'), JSON.stringify({ principal: 'desktop-app', secret: old }), { mode: 0o600 });
    const c = await ensureClusterCredential(dir);
    assert.equal(c.token, `desktop-app:${old}`);
    assert.equal(c.kafkaClient.username, KAFKA_CLIENT_PRINCIPAL);
    assert.notEqual(c.kafkaClient.password, old);
    const auth = JSON.parse(await readFile(c.authFile, 'utf8')) as { principals: Record<string, { secret_hash: string; admin: boolean; produce: string[]; consume: string[] }> };
    const k = auth.principals[KAFKA_CLIENT_PRINCIPAL]!;
    assert.deepEqual([k.admin, k.produce, k.consume], [false, ['*'], ['*']]);
    assert.equal(await verifySecret(c.kafkaClient.password, parseSecretHash(k.secret_hash)), true);
    assert.equal((await stat(join(dir, 'cluster-credential.json'))).mode & 0o777, 0o600);
    const again = await ensureClusterCredential(dir);
    assert.deepEqual(again.kafkaClient, c.kafkaClient, 'kept across starts');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
