import { expect, test, type Page } from '@playwright/test';
import type { TopicSummary } from '../../src/shared/cluster-api';
import { callApi, openPane, savePaneScreenshot, subscribe, uniqueTopic, waitForHealthyCluster } from './helpers';

test.beforeEach(async ({ request }) => {
  await waitForHealthyCluster(request);
});

async function sendFromProducer(page: Page, topic: string, key: string, payload: string) {
  await openPane(page, 'producer');
  await page.getByTestId('produce-topic').fill(topic);
  await page.getByTestId('produce-key').fill(key);
  await page.getByTestId('produce-payload').fill(payload);
  await expect(page.getByTestId('payload-status')).toHaveAttribute('data-valid', 'true');
  const result = page.getByTestId('send-result');
  const before = (await result.count()) ? await result.getAttribute('data-at') : null;
  await page.getByTestId('produce-send').click();
  await expect(result).toBeVisible();
  // After an earlier send the badge is already there: wait for the answer to this one.
  if (before !== null) await expect(result).not.toHaveAttribute('data-at', before);
  return {
    partition: Number(await result.getAttribute('data-partition')),
    offset: Number(await result.getAttribute('data-offset')),
  };
}

test('a JSON message sent in the Producer appears in a Consumer subscription with its partition and offset', async ({ page }, info) => {
  const topic = uniqueTopic('ui-json');
  await page.goto('/');

  // The first send creates the topic; the subscription then starts at "latest" and must see the
  // second record arrive live, with the partition and offset the Producer reported.
  await sendFromProducer(page, topic, 'warmup', '{"warmup": true}');
  const column = await subscribe(page, topic, 'latest');
  await expect(column.getByTestId('sub-positions')).not.toContainText('…', { timeout: 20_000 });

  const sent = await sendFromProducer(page, topic, 'user-42', '{"user": 42, "action": "checkout", "items": [1, 2, 3]}');
  await expect(page.getByTestId('producer-sent')).toHaveText('2');
  await savePaneScreenshot(page, 'producer', info);

  await openPane(page, 'consumer');
  const record = column.locator(`[data-testid="record"][data-partition="${sent.partition}"][data-offset="${sent.offset}"]`);
  await expect(record).toBeVisible();
  await expect(record).toHaveAttribute('data-key', 'user-42');
  await expect(record).toContainText('"action": "checkout"');
  await expect(record).toContainText(`p${sent.partition}`);
  await expect(record).toContainText(`#${sent.offset}`);
  await expect(column.locator('[data-testid="record"][data-key="warmup"]')).toHaveCount(0);
  await expect(column).toHaveAttribute('data-count', '1');
  await savePaneScreenshot(page, 'consumer', info);

  // Pause holds the list still; resume picks up what arrived meanwhile.
  await column.getByTestId('sub-pause').click();
  await expect(column).toHaveAttribute('data-paused', 'true');
  const third = await sendFromProducer(page, topic, 'user-43', '{"user": 43}');
  await openPane(page, 'consumer');
  await page.waitForTimeout(1_500);
  await expect(column).toHaveAttribute('data-count', '1');
  await column.getByTestId('sub-pause').click();
  await expect(column.locator(`[data-testid="record"][data-offset="${third.offset}"][data-partition="${third.partition}"]`)).toBeVisible();
  await expect(column).toHaveAttribute('data-count', '2');

  await column.getByTestId('sub-clear').click();
  await expect(column).toHaveAttribute('data-count', '0');
});

test('an invalid JSON payload is refused in the form with a message, and nothing is sent', async ({ page, request }) => {
  const topic = uniqueTopic('ui-invalid');
  await page.goto('/');
  await openPane(page, 'producer');
  await page.getByTestId('produce-topic').fill(topic);
  await page.getByTestId('produce-payload').fill('{"user": 42, "action": }');

  const status = page.getByTestId('payload-status');
  await expect(status).toHaveAttribute('data-valid', 'false');
  await expect(status).toContainText('Not valid JSON');
  await expect(page.getByTestId('produce-payload')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByTestId('produce-send')).toBeDisabled();

  // The keyboard shortcut is refused the same way.
  await page.getByTestId('produce-payload').press('Control+Enter');
  await page.waitForTimeout(1_000);
  await expect(page.getByTestId('producer-sent')).toHaveText('0');
  await expect(page.getByTestId('send-result')).toHaveCount(0);
  const topics = await callApi<TopicSummary[]>(request, 'listTopics');
  expect(topics.map((t) => t.name)).not.toContain(topic);

  // Fixing it makes the form valid again.
  await page.getByTestId('produce-payload').fill('{"user": 42, "action": "fixed"}');
  await expect(status).toHaveAttribute('data-valid', 'true');
  await expect(page.getByTestId('produce-send')).toBeEnabled();
});
