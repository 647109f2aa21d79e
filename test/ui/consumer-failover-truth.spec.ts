import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { brokerGet, clusterToken, consumeAll, ProbeProducer, type Health } from './broker-direct';
import { callApi, uniqueTopic, waitForHealthyCluster, subscribe } from './helpers';

/**
 * A live subscription in the Consumer pane through a SIGKILL of the leader: what it holds (taken
 * out through its own Export JSON) is exactly what the new leader's GET /consume returns — every
 * committed record once, none skipped, none doubled, keys, headers and payloads as stored.
 */

test.beforeEach(() => {
  test.skip(!clusterToken(), 'needs the data folder of the web host this run started (not YAK_UI_BASE_URL)');
});

interface Exported { partition: number; offset: number; key: string | null; headers: Record<string, string>; payload: unknown }

test('a live subscription through a leader kill holds exactly the records the brokers committed: none skipped, none twice', async ({ page, request }) => {
  test.setTimeout(180_000);
  const token = clusterToken()!;
  const before = await waitForHealthyCluster(request);
  const old = before.leader!;
  const topic = uniqueTopic('ui-consumer-failover');
  await callApi(request, 'createTopic', topic, 2);
  const res = await fetch(`${old.url}/produce/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ topic, records: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, partition: i % 2, payload: { i }, headers: { trace: `t-${i}` } })) }),
  });
  expect(res.status).toBe(200);

  await page.goto('/');
  const column = await subscribe(page, topic);
  await expect(column).toHaveAttribute('data-count', '10');

  // Records keep coming, to whichever broker leads, while the leader is killed.
  const probe = new ProbeProducer(before.brokers.map((b) => b.url), token, topic);
  probe.start();
  let newLeader: string | null = null;
  try {
    await expect.poll(() => probe.acks.length, { timeout: 30_000 }).toBeGreaterThan(10);
    await callApi(request, 'brokerAction', old.id, 'kill');
    const killedAt = Date.now();
    const survivors = before.brokers.filter((b) => b.id !== old.id);
    await expect
      .poll(async () => {
        const claims = (await Promise.all(survivors.map((b) => brokerGet<Health>(`${b.url}/health`, token)))).filter((h) => h?.role === 'leader');
        newLeader = claims.length === 1 ? survivors.find((b) => b.id === claims[0]!.id)!.url : null;
        return newLeader !== null && probe.acks.filter((t) => t > killedAt).length > 10;
      }, { timeout: 60_000, message: 'a new leader commits the probe\'s records' })
      .toBe(true);
  } finally {
    await probe.stop();
    await callApi(request, 'brokerAction', old.id, 'start').catch(() => undefined);
  }

  // The truth: every committed record, from the new leader itself.
  const truth = await consumeAll(newLeader!, token, topic);
  expect(truth.length).toBeGreaterThan(20);
  await expect(column).toHaveAttribute('data-count', String(truth.length), { timeout: 30_000 });

  // What the subscription holds, as it exports it.
  await column.getByTestId('sub-select-shown').click();
  await expect(column.getByTestId('sub-selection')).toHaveAttribute('data-selected', String(truth.length));
  const [download] = await Promise.all([page.waitForEvent('download'), column.getByTestId('sub-export-json').click()]);
  const held = JSON.parse(readFileSync((await download.path())!, 'utf8')) as Exported[];
  const norm = (list: Exported[]) =>
    list
      .map((r) => ({ partition: r.partition, offset: r.offset, key: r.key, headers: r.headers, payload: r.payload }))
      .sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  // consumeAll reads partition by partition, each from offset 0 to its high-water mark: tag each record with its partition.
  const listed = await brokerGet<{ topics: { name: string; partitions: { partition: number; high_watermark: number }[] }[] }>(`${newLeader}/topics`, token, 2_000);
  const parts = listed!.topics.find((t) => t.name === topic)!.partitions;
  const tagged: Exported[] = [];
  let i = 0;
  for (const p of parts) for (let n = 0; n < p.high_watermark; n++) tagged.push({ ...truth[i++]!, partition: p.partition });
  expect(i).toBe(truth.length);
  expect(new Set(held.map((r) => `${r.partition}:${r.offset}`)).size, 'no record held twice').toBe(held.length);
  expect(norm(held)).toEqual(norm(tagged));
  await waitForHealthyCluster(request);
});
