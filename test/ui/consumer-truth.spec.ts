import { expect, test, type Locator } from '@playwright/test';
import { clusterToken } from './broker-direct';
import { callApi, openPane, subscribe, uniqueTopic, waitForHealthyCluster } from './helpers';

/**
 * Issue 11, item 6: the Consumer pane against the brokers' own /topics and /produce — lists survive
 * switching panes, a 1 MiB one-line payload renders at a bounded height, an offset past the end is
 * reported from the broker's answer, subscriptions survive a reload, a paused subscription keeps
 * showing the high-water mark, "live" is not shown while every poll fails, the filter searches headers.
 */
test.beforeEach(() => {
  test.skip(!clusterToken(), 'needs the data folder of the web host this run started (not YAK_UI_BASE_URL)');
});

async function brokerPost(url: string, token: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status, await res.text()).toBe(200);
}

async function brokerHwm(url: string, token: string, topic: string): Promise<number> {
  const res = await fetch(`${url}/topics`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { topics: { name: string; partitions: { high_watermark: number }[] }[] };
  return body.topics.find((t) => t.name === topic)!.partitions[0]!.high_watermark;
}

/** The record at the top of a record list's view, and how far below the list's top edge it starts. */
function topRecord(list: Locator): Promise<{ offset: string; dy: number }> {
  return list.evaluate((el) => {
    const top = el.getBoundingClientRect().top;
    const rows = Array.from(el.querySelectorAll<HTMLElement>('[data-testid="record"]')).map((r) => ({ offset: r.dataset.offset ?? '', rect: r.getBoundingClientRect() }));
    const first = rows.filter((r) => r.rect.bottom > top + 1).sort((a, b) => a.rect.top - b.rect.top)[0];
    return { offset: first?.offset ?? 'none', dy: Math.round((first?.rect.top ?? top) - top) };
  });
}

/** The top record once the list has stopped moving (rows scrolled into view are measured and placed). */
async function settledTopRecord(list: Locator): Promise<{ offset: string; dy: number }> {
  let last = await topRecord(list);
  await expect
    .poll(async () => {
      const now = await topRecord(list);
      const same = now.offset === last.offset && now.dy === last.dy;
      last = now;
      return same;
    })
    .toBe(true);
  return last;
}

test('the Consumer pane tells the truth: pane switches, huge payloads, past-the-end offsets, reload, pause, failing polls, header search', async ({ page, request }) => {
  const token = clusterToken()!;
  const snapshot = await waitForHealthyCluster(request);
  const leader = snapshot.leader!.url;
  const topic = uniqueTopic('ui-consumer-truth');
  await callApi(request, 'createTopic', topic, 1);
  await brokerPost(leader, token, '/produce/batch', {
    topic,
    records: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, payload: { n: i }, headers: { trace: `abc-${i}` } })),
  });
  // One record whose payload is a single 1,000,000-character line.
  await brokerPost(leader, token, '/produce', { topic, key: 'big', payload: 'x'.repeat(1_000_000) });
  expect(await brokerHwm(leader, token, topic)).toBe(31);

  await page.goto('/');
  const column = await subscribe(page, topic);
  await expect(column).toHaveAttribute('data-count', '31');
  await expect(column).toHaveAttribute('data-state', 'live');

  // The big record is collapsed to a bounded height, and stays bounded when opened.
  const big = column.locator('[data-testid="record"][data-offset="30"]');
  await expect(big).toBeVisible();
  await expect(big.getByTestId('record-payload')).toHaveAttribute('data-collapsed', 'true');
  expect((await big.boundingBox())!.height).toBeLessThan(600);
  await big.getByTestId('record-expand').click();
  await expect(big.getByTestId('record-payload')).toHaveAttribute('data-collapsed', 'false');
  expect((await big.boundingBox())!.height).toBeLessThan(700);
  await big.getByTestId('record-expand').click();

  // Away to the Dashboard and back: the list is where the reader left it. Following the tail, the
  // latest record is on screen (not merely rendered: inside the list's scrolled view) and "↓ Latest"
  // is not offered.
  const list = column.getByTestId('record-list');
  const latest = column.getByRole('button', { name: '↓ Latest' });
  await openPane(page, 'dashboard');
  await openPane(page, 'consumer');
  await expect(column.locator('[data-testid="record"][data-offset="30"]')).toBeInViewport();
  await expect(latest).toHaveCount(0);
  // Scrolled up into the middle: back on the same record at the same height, not at the top, not at the end.
  await list.evaluate((el) => el.scrollTo({ top: 600 }));
  const before = await settledTopRecord(list);
  expect(Number(before.offset)).toBeGreaterThan(0);
  await expect(latest).toBeVisible();
  await openPane(page, 'dashboard');
  await openPane(page, 'consumer');
  await expect.poll(() => topRecord(list)).toEqual(before);
  await expect(latest).toBeVisible();
  await latest.click();
  await expect(column.locator('[data-testid="record"][data-offset="30"]')).toBeInViewport();

  // The filter finds a header value.
  await column.getByTestId('sub-filter').fill('trace=abc-7');
  await expect(column.getByTestId('sub-count')).toHaveText('1 of 31 records');
  await expect(column.locator('[data-testid="record"][data-offset="7"]')).toBeVisible();
  await column.getByTestId('sub-filter').fill('');

  // Paused: no records come in, but the high-water mark still follows the brokers'.
  await column.getByTestId('sub-pause').click();
  await expect(column).toHaveAttribute('data-state', 'paused');
  await brokerPost(leader, token, '/produce/batch', { topic, records: Array.from({ length: 5 }, (_, i) => ({ payload: { late: i } })) });
  const hwm = await brokerHwm(leader, token, topic);
  expect(hwm).toBe(36);
  await expect(column.getByTestId('sub-position')).toHaveAttribute('data-hwm', String(hwm));
  await expect(column).toHaveAttribute('data-count', '31');

  // A reload keeps the subscription (still paused); resumed, it reads up to the brokers' mark.
  await page.reload();
  await openPane(page, 'consumer');
  const again = page.locator(`[data-testid="subscription"][data-topic="${topic}"]`);
  await expect(again).toHaveCount(1);
  await expect(again).toHaveAttribute('data-paused', 'true');
  await again.getByTestId('sub-pause').click();
  await expect(again).toHaveAttribute('data-count', String(hwm));

  // Every poll fails: the badge stops saying "live" and the error shows; it recovers once polls are answered.
  await page.route('**/api/call/consume', (route) => route.abort('connectionrefused'));
  await expect(again).toHaveAttribute('data-state', 'failing', { timeout: 30_000 });
  await expect(again.getByTestId('sub-state')).not.toHaveText('live');
  await expect(again.getByTestId('sub-error')).toContainText('Every poll fails');
  await page.unroute('**/api/call/consume');
  await expect(again).toHaveAttribute('data-state', 'live', { timeout: 30_000 });

  // From an offset past the end: the broker's answer (no records, high-water mark 36) is shown.
  await page.getByTestId('sub-topic').fill(topic);
  await page.getByTestId('sub-partition').selectOption('0');
  await page.getByTestId('sub-from').selectOption('offset');
  await page.getByTestId('sub-offset').fill('999999');
  await page.getByTestId('sub-add').click();
  const beyond = page.getByTestId('sub-beyond');
  await expect(beyond).toBeVisible();
  await expect(beyond).toContainText('999,999');
  await expect(beyond).toContainText(`high-water mark of ${hwm}`);
});
