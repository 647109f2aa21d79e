import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TestCluster } from '../../../testkit/broker/cluster.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * docs/consumer-groups.md's curl loop works when pasted: it ran against the README's walkthrough
 * cluster (key customer-7 committed at orders/1, offset 0), so it runs here against a real
 * one-broker cluster holding that record, with the README's port 5001 rewritten. The loop used to
 * commit a made-up offset 42 with a placeholder member id, which a broker refuses.
 */
test("docs/consumer-groups.md: the member's curl loop joins, commits the offset it read to, heartbeats and leaves", async () => {
  const doc = await readFile(join(ROOT, 'docs', 'consumer-groups.md'), 'utf8');
  const blocks = [...doc.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  assert.equal(blocks.length, 1, 'one shell block in docs/consumer-groups.md');
  const cluster = await TestCluster.start({ brokers: 1, partitions: 3 });
  try {
    const { broker } = await cluster.waitForLeader();
    const produced = await fetch(`${broker.url}/produce`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ topic: 'orders', key: 'customer-7', payload: { total: 42 } }),
    });
    assert.deepEqual(await produced.json(), { topic: 'orders', partition: 1, offset: 0 });
    const port = new URL(broker.url).port;
    const script = blocks[0]!.replace(/\b5001\b/g, port);
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 4, r.stdout + r.stderr);
    assert.match(lines[0]!, /^\{"group":"billing","member_id":"rest-[^"]+","generation":1,"strategy":"range","partitions":\[\{"topic":"orders","partition":0\},/);
    assert.equal(lines[1], '{"group":"billing","offsets":[{"topic":"orders","partition":1,"committed_offset":1}]}', 'the commit the doc shows');
    assert.equal(lines[2], '{"group":"billing","generation":1}');
    assert.match(lines[3]!, /^\{"group":"billing","member_id":"rest-[^"]+"\}$/);
    assert.equal(r.stderr, '');
  } finally {
    await cluster.stop();
  }
});
