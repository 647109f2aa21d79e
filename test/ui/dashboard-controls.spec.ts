import { expect, test } from '@playwright/test';
import type { ClusterSnapshot } from '../../src/shared/cluster-api';
import { brokerGet, clusterToken, type Health } from './broker-direct';
import { callApi, isHealthy, uniqueTopic, waitForHealthyCluster } from './helpers';

/**
 * Issue 11, item 11: the dashboard's own controls for what the API already had — create a topic
 * with a number of partitions, remove a broker — checked against the brokers' own /topics and
 * /health (with the cluster's token) and the supervisor's snapshot.
 */
type Topics = { topics: { name: string; partitions: { partition: number }[] }[] };

test.beforeEach(() => {
  test.skip(!clusterToken(), 'needs the data folder of the web host this run started (not YAK_UI_BASE_URL)');
});

test('Create topic makes a topic with the chosen partitions on every broker', async ({ page, request }) => {
  const token = clusterToken()!;
  const snapshot = await waitForHealthyCluster(request);
  const topic = uniqueTopic('ui-created');
  await page.goto('/');

  await page.getByTestId('topic-create-name').fill('bad name!');
  await expect(page.getByTestId('topic-create-error')).toBeVisible();
  await expect(page.getByTestId('topic-create')).toBeDisabled();
  await page.getByTestId('topic-create-name').fill(topic);
  await page.getByTestId('topic-create-partitions').fill('65');
  await expect(page.getByTestId('topic-create-error')).toContainText('1 to 64');
  await page.getByTestId('topic-create-partitions').fill('5');
  await expect(page.getByTestId('topic-create-error')).toHaveCount(0);
  await page.getByTestId('topic-create').click();

  // The brokers' own answer: every broker lists the topic with partitions 0–4.
  for (const b of snapshot.brokers) {
    await expect
      .poll(async () => (await brokerGet<Topics>(`${b.url}/topics`, token, 2_000))?.topics.find((t) => t.name === topic)?.partitions.map((p) => p.partition).sort(), {
        message: `${b.id}'s /topics`,
        timeout: 15_000,
      })
      .toEqual([0, 1, 2, 3, 4]);
  }
  await expect.poll(async () => (await callApi<ClusterSnapshot>(request, 'getSnapshot')).topics.find((t) => t.name === topic)?.partitions.length).toBe(5);
  await expect(page.locator(`[data-testid^="partition-${topic}-"]`)).toHaveCount(5);
  // Creating it again is refused by the form (the name is taken).
  await page.getByTestId('topic-create-name').fill(topic);
  await expect(page.getByTestId('topic-create-error')).toContainText('already exists');
  await page.getByTestId('topic-create-name').fill('');
});

test('Remove broker stops that broker and takes it out of the cluster', async ({ page, request }) => {
  test.setTimeout(120_000);
  const token = clusterToken()!;
  await waitForHealthyCluster(request);
  await page.goto('/');
  await page.getByTestId('add-broker').click();
  let added: ClusterSnapshot | null = null;
  await expect
    .poll(async () => {
      added = await callApi<ClusterSnapshot>(request, 'getSnapshot');
      return isHealthy(added, 4);
    }, { timeout: 60_000 })
    .toBe(true);
  const removed = added!.brokers.find((b) => b.id === 'broker-4')!;
  expect((await brokerGet<Health>(`${removed.url}/health`, token))?.id).toBe('broker-4');

  page.once('dialog', (d) => void d.accept());
  await page.getByTestId('broker-card-broker-4').getByTestId('broker-remove').click();
  await expect(page.getByTestId('broker-card-broker-4')).toHaveCount(0, { timeout: 30_000 });

  // The broker itself no longer answers, and the supervisor no longer runs or counts it.
  await expect.poll(async () => brokerGet<Health>(`${removed.url}/health`, token), { timeout: 15_000 }).toBeNull();
  const after = await callApi<ClusterSnapshot>(request, 'getSnapshot');
  expect(after.brokers.map((b) => b.id).sort()).toEqual(['broker-1', 'broker-2', 'broker-3']);
  expect(after.settings.brokerCount).toBe(3);
  // The others still answer, one of them leading.
  const healths = await Promise.all(after.brokers.map((b) => brokerGet<Health>(`${b.url}/health`, token)));
  expect(healths.filter((h) => h?.role === 'leader')).toHaveLength(1);
  await waitForHealthyCluster(request);
});
