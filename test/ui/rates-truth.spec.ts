import { expect, test } from '@playwright/test';
import { brokerGet, clusterToken } from './broker-direct';
import { callApi, openPane, uniqueTopic, waitForHealthyCluster } from './helpers';

/**
 * The Dashboard's "records in / out per second" against the leader's own counters (GET /metrics
 * records_in_total / records_out_total by topic): while no producer writes anything, "in" stays 0 —
 * the group coordinator's own writes of committed offsets to __consumer_offsets are not records
 * anybody produced — and a consumer group reading a topic shows as "out".
 */

test.beforeEach(() => {
  test.skip(!clusterToken(), 'needs the data folder of the web host this run started (not YAK_UI_BASE_URL)');
});

/** records_in_total / records_out_total of one broker, split into producers' topics and internal (`__…`) ones. */
async function counters(url: string, token: string): Promise<{ userIn: number; internalIn: number; userOut: number }> {
  const m = (await brokerGet<Record<string, unknown>>(`${url}/metrics`, token, 2_000)) ?? {};
  const out = { userIn: 0, internalIn: 0, userOut: 0 };
  for (const [key, value] of Object.entries(m)) {
    if (typeof value !== 'number') continue;
    const topic = /topic="([^"]*)"/.exec(key)?.[1] ?? '';
    if (key.startsWith('records_in_total')) topic.startsWith('__') ? (out.internalIn += value) : (out.userIn += value);
    if (key.startsWith('records_out_total') && !topic.startsWith('__')) out.userOut += value;
  }
  return out;
}

test('with no producer writing, "in/s" stays 0 while a consumer group commits offsets; its reads show as "out/s"', async ({ page, request }) => {
  test.setTimeout(150_000);
  const token = clusterToken()!;
  const snapshot = await waitForHealthyCluster(request);
  const leader = snapshot.leader!;
  const topic = uniqueTopic('ui-rates');
  const group = uniqueTopic('ui-rates-group');
  await callApi(request, 'createTopic', topic, 1);
  const res = await fetch(`${leader.url}/produce/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ topic, records: Array.from({ length: 300 }, (_, i) => ({ payload: { i } })) }),
  });
  expect(res.status).toBe(200);

  await page.goto('/');
  await openPane(page, 'dashboard');
  const rateIn = page.getByTestId('rate-in');
  const rateOut = page.getByTestId('rate-out');
  // The burst above has left the two-minute chart's latest point once "in" reads 0 again.
  await expect(rateIn).toHaveAttribute('data-value', '0', { timeout: 30_000 });

  const before = await counters(leader.url, token);
  // One member "processing" each record for 30 ms: about 9 s of reading, committing every second.
  await callApi(request, 'startGroupMembers', { group, topic, count: 1, processDelayMs: 30 });
  const samples: { in: number; out: number }[] = [];
  try {
    await expect
      .poll(
        async () => {
          samples.push({ in: Number(await rateIn.getAttribute('data-value')), out: Number(await rateOut.getAttribute('data-value')) });
          const now = await counters(leader.url, token);
          // Enough to judge: the coordinator wrote committed offsets, and the page has been watched a while since.
          return now.internalIn - before.internalIn >= 3 && samples.length >= 12;
        },
        { timeout: 60_000, intervals: [400], message: 'the group commits offsets (records_in_total of __consumer_offsets grows)' },
      )
      .toBe(true);
  } finally {
    await callApi(request, 'stopGroupMembers', group).catch(() => undefined);
  }
  const after = await counters(leader.url, token);

  // The brokers' word: no producer wrote a record; the group read some, and committed offsets.
  expect(after.userIn - before.userIn, 'records producers wrote meanwhile (leader records_in_total, user topics)').toBe(0);
  expect(after.internalIn - before.internalIn).toBeGreaterThan(0);
  expect(after.userOut - before.userOut).toBeGreaterThan(0);
  // The page's: nothing came in, something went out.
  expect(samples.filter((s) => s.in !== 0), `"in/s" shown while nothing was produced: ${JSON.stringify(samples)}`).toEqual([]);
  expect(samples.some((s) => s.out > 0), `"out/s" shown while the group read: ${JSON.stringify(samples)}`).toBe(true);
});
