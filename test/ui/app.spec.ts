import { expect, test } from '@playwright/test';
import type { ClusterSnapshot } from '../../src/shared/cluster-api';
import { callApi, collectConsoleErrors, openPane, savePaneScreenshot, waitForHealthyCluster } from './helpers';

test('the app loads with no console error and shows 3 brokers, exactly one leader', async ({ page, request }, info) => {
  await waitForHealthyCluster(request);
  const errors = collectConsoleErrors(page);
  await page.goto('/');

  await expect(page.getByTestId('pane-dashboard')).toBeVisible();
  const cards = page.locator('[data-testid^="broker-card-"]');
  await expect(cards).toHaveCount(3);
  await expect(page.locator('[data-testid^="broker-card-"][data-role="leader"]')).toHaveCount(1);

  const snapshot = await callApi<ClusterSnapshot>(request, 'getSnapshot');
  await expect(page.getByTestId(`broker-card-${snapshot.leader!.id}`)).toHaveAttribute('data-role', 'leader');
  await expect(page.getByTestId('sidebar-status')).toContainText('Connected');

  // Every pane renders, and stays free of errors, including the charts and the animation.
  await openPane(page, 'producer');
  await openPane(page, 'consumer');
  await openPane(page, 'dashboard');
  await page.waitForTimeout(2_000);
  await savePaneScreenshot(page, 'dashboard', info);
  expect(errors).toEqual([]);
});

test('explanations open with one click and close with Escape', async ({ page }) => {
  await page.goto('/');
  const leaderCard = page.locator('[data-testid^="broker-card-"][data-role="leader"]');
  await leaderCard.getByTestId('info-lease').click();
  await expect(page.getByTestId('info-panel-lease')).toContainText('expires');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('info-panel-lease')).toHaveCount(0);
  await expect(leaderCard.getByTestId('info-lease')).toBeFocused();
});

test('the theme toggle switches between light and dark', async ({ page }, info) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto('/');
  const html = page.locator('html');
  await expect(html).toHaveAttribute('data-theme', 'light');
  await page.getByTestId('theme-toggle').click(); // system -> light
  await page.getByTestId('theme-toggle').click(); // light -> dark
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await page.waitForTimeout(500);
  await savePaneScreenshot(page, 'dashboard-dark', info);
  await page.reload();
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await page.getByTestId('theme-toggle').click(); // dark -> system (light here)
  await expect(html).toHaveAttribute('data-theme', 'light');
});

test('panes can be reached with the keyboard alone', async ({ page }) => {
  await page.goto('/');
  await page.keyboard.press('Control+2');
  await expect(page.getByTestId('pane-producer')).toBeVisible();
  await page.keyboard.press('Control+3');
  await expect(page.getByTestId('pane-consumer')).toBeVisible();
  await page.getByTestId('nav-dashboard').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('pane-dashboard')).toBeVisible();
});
