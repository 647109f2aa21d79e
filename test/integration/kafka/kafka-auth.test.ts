import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { hashSecret } from '../../../broker-runtime/src/auth/secret-hash.js';
import { Writer } from '../../../broker-runtime/src/kafka/protocol/writer.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { KafkaWire, produceAnswer, produceBody } from '../../../testkit/kafka-wire.js';
import { call } from '../../../testkit/http.js';
import { encodeBatch } from '../../../broker-runtime/src/kafka/protocol/record-batch.js';
import { kcat } from '../../helpers/kcat.js';

const API_VERSIONS = 18;
const METADATA = 3;
const SASL_HANDSHAKE = 17;
const PRODUCE = 0;

/** --auth-file applies to Kafka connections: SASL/PLAIN with the file's principals, then their permissions. */
describe('the Kafka listener of a broker with --auth-file', () => {
  let cluster: TestCluster;
  let dir: string;
  let port: number;
  let path: string;
  let principals: Record<string, unknown>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'yak-kafka-auth-'));
    path = join(dir, 'principals.json');
    principals = {
      admin: { secret_hash: await hashSecret('admin-secret'), produce: ['*'], consume: ['*'], admin: true },
      app: { secret_hash: await hashSecret('app-secret'), produce: ['orders.*'], consume: ['orders.*'] },
      slow: { secret_hash: await hashSecret('slow-secret'), produce: ['slow.*'], consume: ['slow.*'], quota: { in_bytes_per_second: 2000, out_bytes_per_second: 2000 } },
      'team-b': { secret_hash: await hashSecret('team-b-secret'), produce: [], consume: ['*'], groups: ['b.*'] },
      narrowed: { secret_hash: await hashSecret('narrowed-secret'), produce: ['rev.*'], consume: ['rev.*'] },
      removed: { secret_hash: await hashSecret('removed-secret'), produce: ['rev.*'], consume: ['rev.*'] },
      rotated: { secret_hash: await hashSecret('rotated-secret'), produce: ['rev.*'], consume: ['rev.*'] },
    };
    await writeFile(path, JSON.stringify({ principals }));
    cluster = await TestCluster.start({ brokers: 1, partitions: 1, kafka: true, extra: ['--auth-file', path], token: 'admin:admin-secret' });
    port = [...cluster.kafkaPorts.values()][0]!;
  });
  after(async () => {
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const sasl = (user: string, password: string) => ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=PLAIN', '-X', `sasl.username=${user}`, '-X', `sasl.password=${password}`];

  test('before SASL only ApiVersions is answered (it advertises SaslHandshake); anything else closes the connection', async () => {
    const wire = await KafkaWire.connect(port);
    const versions = await wire.request(API_VERSIONS, 0, Buffer.alloc(0));
    assert.equal(versions.int16(), 0);
    const keys = versions.array((r) => ({ key: r.int16(), min: r.int16(), max: r.int16() })).map((a) => a.key);
    assert.ok(keys.includes(17) && keys.includes(36), `SaslHandshake and SaslAuthenticate advertised: ${keys}`);
    wire.write(wire.frame(METADATA, 1, new Writer().int32(-1).toBuffer()));
    assert.equal(await wire.closedWithin(5000), true);
  });

  test('SaslHandshake v0 then a bare PLAIN token (the pre-SaslAuthenticate flow) authenticates; a wrong one closes the connection', async () => {
    const good = await KafkaWire.connect(port);
    const hs = await good.request(SASL_HANDSHAKE, 0, new Writer().string('PLAIN').toBuffer());
    assert.equal(hs.int16(), 0);
    assert.equal((await good.bare(Buffer.from('\0app\0app-secret'))).length, 0);
    const meta = await good.request(METADATA, 1, new Writer().int32(-1).toBuffer());
    assert.ok(meta.remaining() > 0);
    good.close();
    const bad = await KafkaWire.connect(port);
    await bad.request(SASL_HANDSHAKE, 0, new Writer().string('PLAIN').toBuffer());
    await assert.rejects(bad.bare(Buffer.from('\0app\0wrong')));
    assert.equal(await bad.closedWithin(5000), true);
  });

  test('kcat with a principal\'s name and secret produces and consumes what it may; a wrong secret gets nothing', async () => {
    const produced = await kcat(['-b', `127.0.0.1:${port}`, ...sasl('app', 'app-secret'), '-P', '-t', 'orders.eu', '-K:'], 'k:{"n":1}\n');
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await kcat(['-b', `127.0.0.1:${port}`, ...sasl('app', 'app-secret'), '-C', '-t', 'orders.eu', '-o', 'beginning', '-e', '-q', '-f', '%k=%s\n']);
    assert.equal(consumed.stdout.toString(), 'k={"n":1}\n');
    const wrong = await kcat(['-b', `127.0.0.1:${port}`, ...sasl('app', 'not-it'), '-L', '-m', '3'], undefined, 15_000);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /SASL authentication|Authentication failed/i);
  });

  test('KafkaJS with SASL/PLAIN: a topic outside the principal\'s patterns is refused with TOPIC_AUTHORIZATION_FAILED', async () => {
    const kafka = new Kafka({ clientId: 'auth', brokers: [`127.0.0.1:${port}`], sasl: { mechanism: 'plain', username: 'app', password: 'app-secret' }, logLevel: logLevel.NOTHING, retry: { retries: 1 } });
    const producer = kafka.producer();
    await producer.connect();
    try {
      const ok = await producer.send({ topic: 'orders.us', messages: [{ value: '1' }] });
      assert.equal(ok[0]!.errorCode, 0);
      await assert.rejects(producer.send({ topic: 'payroll', messages: [{ value: '1' }] }), (err: Error & { type?: string }) => /TOPIC_AUTHORIZATION_FAILED|authoriz/i.test(`${err.type} ${err.message}`));
    } finally {
      await producer.disconnect();
    }
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topics = await admin.listTopics();
      assert.ok(topics.every((t) => t.startsWith('orders.')), `only the topics it may see: ${topics}`);
      await assert.rejects(admin.createTopics({ topics: [{ topic: 'orders.new' }] }));
    } finally {
      await admin.disconnect();
    }
  });

  test("a principal over its byte quota is told throttle_time_ms and its records are still stored", async () => {
    const wire = await KafkaWire.connect(port);
    await wire.request(SASL_HANDSHAKE, 0, new Writer().string('PLAIN').toBuffer());
    await wire.bare(Buffer.from('\0slow\0slow-secret'));
    const records = encodeBatch([{ offset: 0, timestamp: Date.now(), key: null, value: Buffer.from(JSON.stringify('x'.repeat(3000))), headers: [] }], 0).toBuffer();
    const r = await wire.request(PRODUCE, 3, produceBody('slow.t', 0, records));
    const { error } = produceAnswer(r);
    r.int64(); // log_append_time
    const throttleMs = r.int32();
    assert.equal(error, 0);
    assert.ok(throttleMs > 0, `throttle_time_ms ${throttleMs}`);
    wire.close();
  });

  test('KafkaJS admin listGroups and describeGroups show a principal with groups patterns only its groups', async () => {
    const url = cluster.urls()[0]!;
    for (const group of ['a.billing', 'b.orders']) {
      const joined = await call(url, 'POST', `/groups/${group}/join`, { topics: ['orders.us'], session_timeout_ms: 30_000 }, undefined, 30_000, 'admin:admin-secret');
      assert.equal(joined.status, 200, joined.text);
    }
    const admin = new Kafka({ clientId: 'groups', brokers: [`127.0.0.1:${port}`], sasl: { mechanism: 'plain', username: 'team-b', password: 'team-b-secret' }, logLevel: logLevel.NOTHING, retry: { retries: 1 } }).admin();
    await admin.connect();
    try {
      assert.deepEqual((await admin.listGroups()).groups.map((g) => g.groupId).sort(), ['b.orders']);
      assert.equal((await admin.describeGroups(['b.orders'])).groups[0]!.state, 'Stable');
      await assert.rejects(admin.describeGroups(['a.billing']), (err: Error) => /Group authorization failed/.test(err.message));
    } finally {
      await admin.disconnect();
    }
  });
  // Last in this file: it rewrites the auth file the tests above use.
  test('SIGHUP applies to open Kafka connections: a narrowed principal is refused, a removed or re-keyed one is disconnected, an unchanged one goes on', async () => {
    const signIn = async (name: string): Promise<KafkaWire> => {
      const wire = await KafkaWire.connect(port);
      assert.equal((await wire.request(SASL_HANDSHAKE, 0, new Writer().string('PLAIN').toBuffer())).int16(), 0);
      assert.equal((await wire.bare(Buffer.from(`\0${name}\0${name}-secret`))).length, 0);
      return wire;
    };
    const batch = () => encodeBatch([{ offset: 0, timestamp: Date.now(), key: null, value: Buffer.from('"v"'), headers: [] }], 0).toBuffer();
    const produceOn = async (wire: KafkaWire, topic: string) => produceAnswer(await wire.request(PRODUCE, 3, produceBody(topic, 0, batch()))).error;
    const conns = { narrowed: await signIn('narrowed'), removed: await signIn('removed'), rotated: await signIn('rotated'), app: await signIn('app') };
    for (const name of ['narrowed', 'removed', 'rotated'] as const) assert.equal(await produceOn(conns[name], 'rev.t'), 0, `${name} may produce before the reload`);
    assert.equal(await produceOn(conns.app, 'orders.kept'), 0);
    const hwmBefore = await highWatermark('rev.t');

    const next = { ...principals, narrowed: { ...(principals.narrowed as object), produce: [], consume: [] }, rotated: { ...(principals.rotated as object), secret_hash: await hashSecret('a-new-secret') } };
    delete (next as Record<string, unknown>).removed;
    await writeFile(path, JSON.stringify({ principals: next }));
    const broker = cluster.brokers[0]!;
    const reloads = broker.output.filter((l) => l.includes('SIGHUP: reloaded')).length;
    broker.signal('SIGHUP');
    await waitUntil(() => broker.output.filter((l) => l.includes('SIGHUP: reloaded')).length > reloads, 10_000);

    // On the connections authenticated before the reload:
    assert.equal(await produceOn(conns.narrowed, 'rev.t'), 29, 'TOPIC_AUTHORIZATION_FAILED: its produce right was taken away');
    for (const name of ['removed', 'rotated'] as const) {
      await assert.rejects(produceOn(conns[name], 'rev.t'), /connection closed/, `${name}: the principal it authenticated as is gone`);
      assert.equal(await conns[name].closedWithin(5000), true);
    }
    assert.equal(await highWatermark('rev.t'), hwmBefore, 'nothing written after the reload');
    assert.equal(await produceOn(conns.app, 'orders.kept'), 0, 'an unchanged principal keeps its connection');
    for (const wire of Object.values(conns)) wire.close();
  });

  async function highWatermark(topic: string): Promise<number> {
    const r = await call(cluster.urls()[0]!, 'GET', `/topics`, undefined, undefined, 10_000, 'admin:admin-secret');
    assert.equal(r.status, 200, r.text);
    const t = (r.body as { topics: { name: string; partitions: { high_watermark: number }[] }[] }).topics.find((x) => x.name === topic);
    return t?.partitions.reduce((s, p) => s + p.high_watermark, 0) ?? 0;
  }

  async function waitUntil(ok: () => boolean, ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > until) throw new Error('the broker did not log the reload in time');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
});
