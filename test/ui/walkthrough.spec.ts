import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openPane, subscribe, waitForHealthyCluster } from './helpers';

/**
 * The README's "first five minutes", done as a new user would: look at the Dashboard, produce,
 * consume, fail the leader over, run a lesson. Each step's screenshot goes to test-results/ (and
 * the report); with YAK_UPDATE_SCREENSHOTS=1 it also replaces docs/images/<name>.png, the pictures
 * the README shows. Only then: a CI run never rewrites tracked files (PNGs differ at every run —
 * clocks, offsets, epochs), so the repository does not churn; refreshing them is a deliberate act.
 */
const DOCS_IMAGES = join('docs', 'images');

async function shot(page: Page, name: string, info: TestInfo): Promise<void> {
  const dir = join('test-results', 'walkthrough');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path });
  await info.attach(name, { path, contentType: 'image/png' });
  if (process.env.YAK_UPDATE_SCREENSHOTS === '1') {
    mkdirSync(DOCS_IMAGES, { recursive: true });
    copyFileSync(path, join(DOCS_IMAGES, `${name}.png`));
  }
}

test('first five minutes: dashboard, produce, consume, fail over, a lesson', async ({ page, request }, info) => {
  test.setTimeout(300_000);
  const before = await waitForHealthyCluster(request);
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto('/');

  // 1. The cluster: three brokers, one leader.
  await expect(page.locator('[data-testid^="broker-card-"][data-role="leader"]')).toHaveCount(1);
  await shot(page, '1-dashboard', info);

  // 2. Produce a keyed JSON record.
  const topic = 'orders';
  await openPane(page, 'producer');
  await page.getByTestId('produce-topic').fill(topic);
  await page.getByTestId('produce-key').fill('customer-7');
  await page.getByTestId('produce-payload').fill('{"total": 42, "items": ["tea", "milk"]}');
  await page.getByTestId('produce-send').click();
  const result = page.getByTestId('send-result');
  await expect(result).toBeVisible();
  const partition = await result.getAttribute('data-partition');
  const offset = await result.getAttribute('data-offset');
  await shot(page, '2-produce', info);

  // 3. Consume it from the earliest offset.
  const column = await subscribe(page, topic, 'earliest');
  await expect(column.locator(`[data-testid="record"][data-partition="${partition}"][data-offset="${offset}"]`)).toBeVisible();
  await shot(page, '3-consume', info);

  // 4. Fail the leader over (kill) and watch the timeline.
  await openPane(page, 'dashboard');
  await page.getByTestId('failover-mode-kill').check();
  await page.getByTestId('failover-restart').check();
  await page.getByTestId('failover-demo-producer').check();
  await page.getByTestId('simulate-failover').click();
  await expect(page.getByTestId('failover-state')).toHaveText('done', { timeout: 150_000 });
  await page.getByTestId('failover-panel').scrollIntoViewIfNeeded();
  await shot(page, '4-failover', info);

  // 5. A lesson: the zombie leader, fenced by its epoch.
  await waitForHealthyCluster(request);
  await page.getByTestId('nav-lessons').click();
  await page.getByTestId('lesson-zombie-run').click();
  const card = page.getByTestId('lesson-zombie');
  await expect(card).toHaveAttribute('data-state', 'done', { timeout: 150_000 });
  await card.getByTestId('lesson-zombie-outcome').scrollIntoViewIfNeeded();
  await shot(page, '5-lesson-zombie', info);
  expect(before.brokers.length).toBe(3);
});
