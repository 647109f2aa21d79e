import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { get, post } from '../../../testkit/http.js';
import { waitFor } from '../../../testkit/wait.js';

interface JsonLine {
  time: string;
  level: string;
  broker: string;
  event: string;
  message: string;
  fields: Record<string, unknown>;
}

/** --log-format json on real brokers: every line they write, from start to stop, is one JSON object. */
describe('brokers with --log-format json --log-level debug', () => {
  let cluster: TestCluster;
  const lines = new Map<string, JsonLine[]>();

  before(async () => {
    cluster = await TestCluster.start({ brokers: 2, extra: ['--log-format', 'json', '--log-level', 'debug'] });
    const leader = (await cluster.waitForLeader()).broker;
    assert.equal((await post(leader.url, '/produce', { topic: 'logged', payload: { a: 1 } })).status, 200);
    assert.equal((await get(leader.url, '/consume?topic=logged&partition=0&offset=0')).status, 200);
    assert.equal((await get(leader.url, '/nope')).status, 404);
    await Promise.all(cluster.brokers.map((b) => b.stop())); // SIGTERM: the stop is logged too
    // stop() returns at the process's exit; its last lines may still be in the pipe.
    for (const b of cluster.brokers) await waitFor(`${b.id}'s last line`, () => b.output.at(-1)?.includes('"broker.stopped"'), 3000);
    for (const b of cluster.brokers) {
      assert.ok(b.output.length > 0 && b.output.length < 2000, `${b.id} wrote ${b.output.length} lines (the helper keeps the last 2000)`);
      lines.set(
        b.id,
        b.output.map((line, i) => {
          try {
            return JSON.parse(line) as JsonLine;
          } catch {
            assert.fail(`${b.id} line ${i + 1} is not JSON: ${line}`);
          }
        }),
      );
    }
  });
  after(async () => cluster?.stop());

  test('every line parses and has time, level, broker, event, message and fields', () => {
    for (const [id, parsed] of lines) {
      for (const l of parsed) {
        const where = `${id}: ${JSON.stringify(l)}`;
        assert.ok(!Number.isNaN(Date.parse(l.time)) && l.time.endsWith('Z'), where);
        assert.ok(['debug', 'info', 'warn', 'error'].includes(l.level), where);
        assert.equal(l.broker, id, where);
        assert.match(l.event, /^[a-z_]+(\.[a-z_]+)*$/, where);
        assert.equal(typeof l.message, 'string', where);
        assert.ok(typeof l.fields === 'object' && l.fields !== null && !Array.isArray(l.fields), where);
      }
    }
  });

  test('start, election, the request log and stop are named events with their fields', () => {
    const all = [...lines.values()].flat();
    const events = new Set(all.map((l) => l.event));
    for (const e of ['broker.starting', 'broker.listening', 'leader.elected', 'http.request', 'broker.stopping', 'broker.stopped']) {
      assert.ok(events.has(e), `no ${e} event among ${[...events].join(', ')}`);
    }
    const requests = all.filter((l) => l.event === 'http.request');
    assert.ok(requests.every((l) => l.level === 'debug'), 'the request log is at debug level');
    const produce = requests.find((l) => l.fields['method'] === 'POST' && l.fields['path'] === '/produce');
    assert.ok(produce, 'the produce request is logged');
    assert.equal(produce.fields['status'], 200);
    assert.equal(typeof produce.fields['duration_ms'], 'number');
    const notFound = requests.find((l) => l.fields['path'] === '/nope');
    assert.equal(notFound?.fields['status'], 404);
    const elected = all.find((l) => l.event === 'leader.elected')!;
    assert.equal(typeof elected.fields['epoch'], 'number');
  });
});
