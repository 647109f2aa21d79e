import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { clusterToken, consumeAll } from './broker-direct';
import { callApi, openPane, uniqueTopic, waitForHealthyCluster } from './helpers';

/**
 * Issue 11, "what users of Kafka UIs expect": seek by timestamp, export of selected records (JSON and
 * CSV) and re-produce to another topic — each checked against the brokers' own /consume.
 */
test.beforeEach(() => {
  test.skip(!clusterToken(), 'needs the data folder of the web host this run started (not YAK_UI_BASE_URL)');
});

interface Rec { offset: number; key: string | null; payload: unknown; headers: Record<string, string>; timestamp: number }

/** A datetime-local value (local time, with milliseconds) for `ms`. */
function localInput(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

test('seek by timestamp, export the selection as JSON and CSV, re-produce it to another topic', async ({ page, request }) => {
  const token = clusterToken()!;
  const snapshot = await waitForHealthyCluster(request);
  const leader = snapshot.leader!.url;
  const topic = uniqueTopic('ui-tools');
  const target = uniqueTopic('ui-tools-copy');
  await callApi(request, 'createTopic', topic, 1);
  const send = async (batch: string) => {
    const res = await fetch(`${leader}/produce/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ topic, records: Array.from({ length: 10 }, (_, i) => ({ key: `${batch}${i}`, payload: { batch, i, text: 'a, "quoted"\nline' }, headers: { batch } })) }),
    });
    expect(res.status).toBe(200);
  };
  await send('A');
  await new Promise((r) => setTimeout(r, 50));
  const since = Date.now();
  await new Promise((r) => setTimeout(r, 50));
  await send('B');

  // The truth: the first offset the leader stamped at or after `since`, from its own /consume.
  const all = (await consumeAll(leader, token, topic)) as unknown as Rec[];
  expect(all).toHaveLength(20);
  const expectedStart = all.find((r) => r.timestamp >= since)!.offset;
  const expected = all.filter((r) => r.offset >= expectedStart);

  await page.goto('/');
  await openPane(page, 'consumer');
  await page.getByTestId('sub-topic').fill(topic);
  await page.getByTestId('sub-partition').selectOption('0');
  await page.getByTestId('sub-from').selectOption('time');
  await page.getByTestId('sub-time').fill(localInput(since));
  await page.getByTestId('sub-add').click();
  const column = page.locator(`[data-testid="subscription"][data-topic="${topic}"]`);
  await expect(column.getByTestId('sub-seeked-offset')).toHaveAttribute('data-offset', String(expectedStart));
  await expect(column).toHaveAttribute('data-count', String(expected.length));

  // Select what is shown (batch B), export it.
  await column.getByTestId('sub-select-shown').click();
  await expect(column.getByTestId('sub-selected-count')).toHaveText(`${expected.length} selected`);
  const [json] = await Promise.all([page.waitForEvent('download'), column.getByTestId('sub-export-json').click()]);
  const exported = JSON.parse(readFileSync((await json.path())!, 'utf8')) as (Rec & { topic: string; partition: number })[];
  expect(exported.map(({ topic: t, partition, offset, key, payload, headers, timestamp }) => ({ t, partition, offset, key, payload, headers, timestamp }))).toEqual(
    expected.map((r) => ({ t: topic, partition: 0, offset: r.offset, key: r.key, payload: r.payload, headers: r.headers, timestamp: r.timestamp })),
  );
  const [csv] = await Promise.all([page.waitForEvent('download'), column.getByTestId('sub-export-csv').click()]);
  const csvText = readFileSync((await csv.path())!, 'utf8');
  expect(csvText.startsWith('topic,partition,offset,timestamp,key,headers,payload\r\n')).toBe(true);
  // Each payload holds a quoted comma and a line break: RFC 4180 quoting keeps one record per row.
  expect(csvText).toContain(`${topic},0,${expectedStart},`);
  expect(csvText).toContain('"{""batch"":""B"",""i"":0,""text"":""a, \\""quoted\\""\\nline""}"');

  // Re-produce the selection to another topic: the brokers hold exactly those keys, payloads and headers.
  await column.getByTestId('sub-reproduce-topic').fill(target);
  await column.getByTestId('sub-reproduce').click();
  await expect(column.getByTestId('sub-reproduce-result')).toHaveAttribute('data-state', 'done');
  await expect(column.getByTestId('sub-reproduce-result')).toContainText(`${expected.length} records committed to ${target}`);
  const copied = (await consumeAll(leader, token, target)) as unknown as Rec[];
  const shape = (r: Rec) => JSON.stringify({ key: r.key, payload: r.payload, headers: r.headers });
  expect(copied.map(shape).sort()).toEqual(expected.map(shape).sort());
});
