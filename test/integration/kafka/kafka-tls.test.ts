import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { makeTestCerts, type TestCerts } from '../../../testkit/certs.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { kcat } from '../../helpers/kcat.js';

/** With --tls-cert the Kafka listener speaks TLS with the same certificate as REST and replication. */
describe('the Kafka listener of a broker with --tls-cert', () => {
  let certs: TestCerts;
  let cluster: TestCluster;

  before(async () => {
    certs = makeTestCerts();
    cluster = await TestCluster.start({
      brokers: 1,
      partitions: 1,
      kafka: true,
      tls: { cert: certs.serverCert, key: certs.serverKey, caFile: certs.caCert, ca: readFileSync(certs.caCert) },
    });
  });
  after(async () => {
    await cluster?.stop();
    certs?.remove();
  });

  test('kcat over SSL, trusting the cluster CA, produces and consumes', async () => {
    const ssl = ['-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${certs.caCert}`];
    const b = cluster.bootstrap()[0]!;
    const produced = await kcat(['-b', b, ...ssl, '-P', '-t', 'secure'], '{"tls":true}\n');
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await kcat(['-b', b, ...ssl, '-C', '-t', 'secure', '-o', 'beginning', '-e', '-q']);
    assert.equal(consumed.stdout.toString(), '{"tls":true}\n');
    const plain = await kcat(['-b', b, '-L', '-m', '3'], undefined, 15_000);
    assert.notEqual(plain.code, 0, 'a plaintext client gets nowhere');
  });
});
