import { expect, test } from '@playwright/test';
import { openPane, savePaneScreenshot, subscribe, uniqueTopic, waitForHealthyCluster } from './helpers';

const ROWS = 1_000;

function csvOf(rows: number): Buffer {
  const lines = ['id,name,amount,city'];
  for (let i = 1; i <= rows; i++) lines.push(`order-${i},customer ${i},${(i * 1.5).toFixed(2)},${['Oslo', 'Lima', 'Pune'][i % 3]}`);
  return Buffer.from(lines.join('\n') + '\n');
}

test('a CSV of 1,000 rows uploads with progress and all 1,000 records are consumed', async ({ page, request }, info) => {
  await waitForHealthyCluster(request);
  const topic = uniqueTopic('ui-csv');
  await page.goto('/');
  await openPane(page, 'producer');

  await page.getByTestId('csv-file').setInputFiles({ name: 'orders.csv', mimeType: 'text/csv', buffer: csvOf(ROWS) });
  await expect(page.getByTestId('csv-summary')).toContainText('1,000 rows');
  await page.getByTestId('csv-topic').fill(topic);
  await page.getByTestId('csv-key-column').selectOption('id');

  // Record every value the progress bar shows, to prove it moved through the upload.
  await page.evaluate(() => {
    const seen: number[] = [];
    (window as unknown as { __progress: number[] }).__progress = seen;
    new MutationObserver(() => {
      const bar = document.querySelector('[data-testid="csv-progress"] [role="progressbar"]');
      const v = Number(bar?.getAttribute('aria-valuenow') ?? NaN);
      if (!Number.isNaN(v) && seen.at(-1) !== v) seen.push(v);
    }).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
  await page.getByTestId('csv-send').click();

  await expect(page.getByTestId('csv-upload')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await expect(page.getByTestId('csv-progress')).toHaveAttribute('data-delivered', String(ROWS));
  await expect(page.getByTestId('csv-refusals')).toHaveCount(0);
  await expect(page.getByTestId('producer-sent')).toHaveText('1,000');
  const seen = await page.evaluate(() => (window as unknown as { __progress: number[] }).__progress);
  expect(seen.at(-1)).toBe(100);
  expect(seen.some((v) => v > 0 && v < 100)).toBe(true);
  await savePaneScreenshot(page, 'producer-csv', info);

  const column = await subscribe(page, topic, 'earliest');
  await expect(column).toHaveAttribute('data-count', String(ROWS), { timeout: 30_000 });
  await expect(column.getByTestId('sub-count')).toHaveText('1,000 records');

  // The filter finds one order among the thousand, by key or payload text.
  await column.getByTestId('sub-filter').fill('customer 777');
  await expect(column.getByTestId('sub-count')).toHaveText('1 of 1,000 records');
  await expect(column.locator('[data-testid="record"][data-key="order-777"]')).toBeVisible();
  await column.getByTestId('sub-filter').fill('');
  await expect(column.getByTestId('sub-count')).toHaveText('1,000 records');
  await expect(column.getByTestId('record').nth(3)).toBeVisible();
  await savePaneScreenshot(page, 'consumer-csv', info);
  await openPane(page, 'dashboard');
});
