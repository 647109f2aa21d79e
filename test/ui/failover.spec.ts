import { expect, test } from '@playwright/test';
import type { ClusterSnapshot } from '../../src/shared/cluster-api';
import { callApi, openPane, savePaneScreenshot, subscribe, uniqueTopic, waitForHealthyCluster } from './helpers';

test('"Simulate failover" ends with a different leader, a higher epoch, the timeline complete, and a record produced afterwards consumed', async ({ page, request }, info) => {
  test.setTimeout(180_000);
  const before = await waitForHealthyCluster(request);
  const oldLeader = before.leader!.id;
  const oldEpoch = before.epoch;

  await page.goto('/');
  const oldCard = page.getByTestId(`broker-card-${oldLeader}`);
  await expect(oldCard).toHaveAttribute('data-role', 'leader');

  await page.getByTestId('failover-mode-kill').check();
  await page.getByTestId('failover-restart').check();
  await page.getByTestId('failover-demo-producer').check();
  await page.getByTestId('simulate-failover').click();

  // Drawn as it happens: the first step shows while the run is still going.
  const timeline = page.getByTestId('failover-timeline');
  await expect(timeline.getByTestId('failover-step-leader-lost')).toHaveAttribute('data-done', 'true', { timeout: 30_000 });
  await page.getByTestId('failover-panel').scrollIntoViewIfNeeded();
  await savePaneScreenshot(page, 'dashboard-failover-running', info);

  await expect(page.getByTestId('failover-state')).toHaveText('done', { timeout: 150_000 });
  for (const step of ['leader-lost', 'lease-expired', 'new-leader', 'first-commit', 'old-leader-restarted', 'caught-up']) {
    await expect(timeline.getByTestId(`failover-step-${step}`)).toHaveAttribute('data-done', 'true');
  }
  await expect(page.getByTestId('failover-gap')).toHaveText(/\d/);

  const newLeaderId = (await page.getByTestId('failover-new-leader').textContent())!.trim();
  expect(newLeaderId).not.toBe(oldLeader);
  const newCard = page.getByTestId(`broker-card-${newLeaderId}`);
  await expect(newCard).toHaveAttribute('data-role', 'leader');
  const newEpoch = Number(await newCard.getAttribute('data-epoch'));
  expect(newEpoch).toBeGreaterThan(oldEpoch);
  await expect(page.locator('[data-testid^="broker-card-"][data-role="leader"]')).toHaveCount(1);
  await savePaneScreenshot(page, 'dashboard-failover-done', info);

  const after = await callApi<ClusterSnapshot>(request, 'getSnapshot');
  expect(after.leader?.id).toBe(newLeaderId);
  expect(after.epoch).toBeGreaterThan(oldEpoch);

  // Writes work again through the new leader, and readers see them.
  const topic = uniqueTopic('ui-after-failover');
  await openPane(page, 'producer');
  await page.getByTestId('produce-topic').fill(topic);
  await page.getByTestId('produce-key').fill('after');
  await page.getByTestId('produce-payload').fill('{"after": "failover"}');
  await page.getByTestId('produce-send').click();
  const result = page.getByTestId('send-result');
  await expect(result).toBeVisible({ timeout: 30_000 });
  const partition = await result.getAttribute('data-partition');
  const offset = await result.getAttribute('data-offset');

  const column = await subscribe(page, topic, 'earliest');
  await expect(column.locator(`[data-testid="record"][data-partition="${partition}"][data-offset="${offset}"]`)).toContainText('"after": "failover"');
});
