import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hashSecret } from '../../../broker-runtime/src/auth/secret-hash.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { freePort } from '../../../testkit/ports.js';
import { sleep } from '../../../testkit/wait.js';
import { finished, startYak, yak, type CliResult } from '../../helpers/yak-cli.js';

/** stderr is exactly one line, and it contains every one of `words`. */
function oneLineNaming(r: CliResult, ...words: string[]): void {
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  for (const w of words) assert.ok(lines[0]!.includes(w), `'${lines[0]}' names ${w}`);
}

const jsonLines = (text: string) => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

/**
 * The `yak` command line against a real 2-broker cluster (redis-server + yak-broker processes).
 * Every command is given only the follower as its seed, so each one proves it finds the leader.
 */
describe('yak CLI against a 2-broker cluster', () => {
  let cluster: TestCluster;
  let follower: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    cluster = await TestCluster.start({ brokers: 2, partitions: 3 });
    const { broker: leader } = await cluster.waitForLeader();
    follower = cluster.brokers.find((b) => b !== leader)!.url;
    env = { YAK_BROKERS: follower };
  });
  after(async () => {
    await cluster?.stop();
  });

  test('produce reads stdin lines with -K: keys and -H headers; consume prints them back, plain, with -K: and --json', async () => {
    const input = 'customer-7:{"total":42}\ncustomer-8:hello\nno-key-here\n\ncustomer-7:"second"\n';
    const produced = await yak(['produce', 'orders', '-K:', '-H', 'source=cli', '-H', 'trace=a=b', '--print-offsets'], { input, env });
    assert.equal(produced.status, 0, produced.stderr);
    const acks = jsonLines(produced.stdout);
    assert.equal(acks.length, 4, 'the empty line is skipped');
    // Kafka's default partitioner puts customer-7 on partition 1 of 3 (README), and keeps its order there.
    assert.deepEqual(acks[0], { topic: 'orders', partition: 1, offset: 0 });
    assert.deepEqual(acks[3], { topic: 'orders', partition: 1, offset: 1 });

    const plain = await yak(['consume', 'orders', '-p', '1'], { env });
    assert.equal(plain.status, 0, plain.stderr);
    assert.equal(plain.stdout, '{"total":42}\nsecond\n', 'a JSON line came back as JSON, a string as its text');

    const keyed = await yak(['consume', 'orders', '-K:'], { env });
    assert.equal(keyed.status, 0, keyed.stderr);
    assert.deepEqual(keyed.stdout.trim().split('\n').sort(), [':no-key-here', 'customer-7:second', 'customer-7:{"total":42}', 'customer-8:hello'].sort());

    const json = await yak(['consume', 'orders', '--json'], { env });
    assert.equal(json.status, 0, json.stderr);
    const records = jsonLines(json.stdout);
    assert.equal(records.length, 4);
    const first = records.find((r) => r['key'] === 'customer-7' && r['offset'] === 0)!;
    assert.deepEqual({ ...first, timestamp: 0 }, {
      topic: 'orders', partition: 1, offset: 0, key: 'customer-7', payload: { total: 42 }, timestamp: 0, headers: { source: 'cli', trace: 'a=b' },
    });
    assert.equal(records.find((r) => r['payload'] === 'no-key-here')?.['key'], null);

    const formatted = await yak(['consume', 'orders', '-p', '1', '-o', '-1', '-f', '%t/%p@%o %k=%s [%h]\\n'], { env });
    assert.equal(formatted.stdout, 'orders/1@1 customer-7=second [source=cli,trace=a=b]\n', '-o -1 starts one record before the end');
    const counted = await yak(['consume', 'orders', '-c', '2', '--json'], { env });
    assert.equal(jsonLines(counted.stdout).length, 2, '--count stops early');
  });

  test('consume --follow prints a record produced after it started, and exits after --count', async () => {
    assert.equal((await yak(['topics', 'create', 'live', '--partitions', '2'], { env })).status, 0);
    const follow = startYak(['consume', 'live', '--follow', '-o', 'end', '--count', '1', '-K=', '--wait-ms', '2000'], { env });
    await sleep(1500);
    assert.equal(follow.exitCode, null, `still waiting before the record exists: ${follow.out.stderr}`);
    const produced = await yak(['produce', 'live', '-K=', '--value', 'string'], { input: 'late=arrival\n', env });
    assert.equal(produced.status, 0, produced.stderr);
    const r = await finished(follow, 10_000);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'late=arrival\n');
  });

  test('topics: create, list and describe', async () => {
    const created = await yak(['topics', 'create', 'audit', '--partitions', '2'], { env });
    assert.equal(created.status, 0, created.stderr);
    assert.match(created.stdout, /created topic audit with 2 partitions/);
    const again = await yak(['topics', 'create', 'audit', '-p', '2'], { env });
    assert.equal(again.status, 1);
    oneLineNaming(again, 'TOPIC_EXISTS', 'audit');
    assert.equal((await yak(['topics', 'create', 'audit', '-p', '2', '--if-not-exists'], { env })).status, 0);

    const produced = await yak(['produce', 'audit', '-p', '1'], { input: 'a\nb\nc\n', env });
    assert.equal(produced.status, 0, produced.stderr);
    const list = await yak(['topics'], { env });
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /^TOPIC\s+PARTITIONS\s+COMMITTED$/m);
    assert.match(list.stdout, /^audit\s+2\s+3$/m);
    const listed = jsonLines((await yak(['topics', 'list', '--json'], { env })).stdout);
    assert.ok(listed.some((t) => t['name'] === 'audit'));

    const described = await yak(['topics', 'describe', 'audit'], { env });
    assert.equal(described.status, 0, described.stderr);
    assert.match(described.stdout, /^0\s+0\s+0$/m);
    assert.match(described.stdout, /^1\s+3\s+3$/m);
    const missing = await yak(['topics', 'describe', 'nope'], { env });
    assert.equal(missing.status, 1);
    oneLineNaming(missing, "'nope'", 'does not exist');
  });

  test('cluster shows the leader, its epoch and the in-sync replicas', async () => {
    const { broker: leader, epoch } = await cluster.waitForLeader();
    const r = await yak(['cluster'], { env });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`epoch ${epoch}\\s+leader ${leader.id} \\(${leader.url}\\)\\s+in-sync b1,b2`));
    assert.match(r.stdout, new RegExp(`^${leader.id}\\s+${leader.url}\\s+leader\\s+yes\\s+yes$`, 'm'));
    const json = JSON.parse((await yak(['cluster', '--json'], { env })).stdout) as { leader: { id: string } };
    assert.equal(json.leader.id, leader.id);
  });

  test('an unreachable broker list: exit 1 with one line naming the brokers', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    for (const args of [['cluster'], ['consume', 'orders'], ['produce', 'orders']]) {
      const r = await yak([...args, '-b', dead, '--retries', '1'], { input: 'x\n' });
      assert.equal(r.status, 1, `${args[0]}: ${r.stderr}`);
      oneLineNaming(r, 'no broker reachable', dead, 'CONNECTION_FAILED');
      assert.equal(r.stdout, '');
    }
  });

  test('usage errors: exit 2 with one line naming the problem; --help exits 0', async () => {
    const cases: [string[], string][] = [
      [['frobnicate'], 'frobnicate'],
      [['consume'], 'TOPIC'],
      [['consume', 'orders', '--nope'], '--nope'],
      [['consume', 'orders', '-o', 'sometime'], '--offset'],
      [['consume', 'orders', '-o', 's@1700000000000'], 'timestamp'],
      [['consume', 'orders', '--json', '-K:'], '--json'],
      [['produce', 'orders', '-H', 'novalue'], 'novalue'],
      [['produce', 'orders', '-p', 'one'], '--partition'],
      [['topics', 'create', 'x'], '--partitions'],
      [['topics', 'shred'], 'shred'],
      [['cluster', '-b', 'ftp://example'], 'ftp://example'],
      [['cluster', '--ca', '/nonexistent/ca.pem'], '--ca'],
    ];
    for (const [args, word] of cases) {
      const r = await yak(args, { env });
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      oneLineNaming(r, word);
    }
    for (const command of ['produce', 'consume', 'topics', 'cluster']) {
      const r = await yak([command, '--help']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Usage: yak ${command}`));
      assert.match(r.stdout, /--brokers/);
    }
    assert.equal((await yak(['--help'])).status, 0);
  });
});

describe('yak CLI against a broker started with --auth-file', () => {
  let cluster: TestCluster;
  let dir: string;
  const ADMIN = 'admin:admin-secret';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'yak-cli-auth-'));
    const path = join(dir, 'principals.json');
    await writeFile(path, JSON.stringify({ principals: { admin: { secret_hash: await hashSecret('admin-secret'), produce: ['*'], consume: ['*'], admin: true } } }));
    cluster = await TestCluster.start({ brokers: 1, partitions: 1, extra: ['--auth-file', path], token: ADMIN });
  });
  after(async () => {
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('without a token: exit 1, one line naming the token; a wrong one is named as not accepted; --token and YAK_TOKEN work', async () => {
    const brokers = cluster.urls().join(',');
    const none = await yak(['topics', '-b', brokers]);
    assert.equal(none.status, 1, none.stderr);
    oneLineNaming(none, '401 UNAUTHENTICATED', '--token', 'YAK_TOKEN');
    const noneProduce = await yak(['produce', 'secret', '-b', brokers], { input: 'x\n' });
    assert.equal(noneProduce.status, 1, noneProduce.stderr);
    oneLineNaming(noneProduce, '401 UNAUTHENTICATED', '--token');

    const wrong = await yak(['cluster', '-b', brokers, '--token', 'admin:wrong']);
    assert.equal(wrong.status, 1);
    oneLineNaming(wrong, 'did not accept the token');

    const produced = await yak(['produce', 'secret', '-b', brokers, '--token', ADMIN], { input: 'kept\n' });
    assert.equal(produced.status, 0, produced.stderr);
    const consumed = await yak(['consume', 'secret'], { env: { YAK_BROKERS: brokers, YAK_TOKEN: ADMIN } });
    assert.equal(consumed.status, 0, consumed.stderr);
    assert.equal(consumed.stdout, 'kept\n');
  });
});
