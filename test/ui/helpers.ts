import { expect, type APIRequestContext, type Page, type TestInfo } from '@playwright/test';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterApiCall, ClusterSnapshot } from '../../src/shared/cluster-api';
import { WEB_CALL_PREFIX } from '../../src/shared/web-protocol';

/** Calls the web host's ClusterApi directly: for checks the UI cannot make, never to replace it. */
export async function callApi<T>(request: APIRequestContext, method: ClusterApiCall, ...args: unknown[]): Promise<T> {
  const res = await request.post(WEB_CALL_PREFIX + method, { data: { args } });
  const body = (await res.json()) as { result?: T; error?: string; message?: string };
  if (!res.ok()) throw new Error(`${method}: ${body.error} ${body.message}`);
  return body.result as T;
}

export function isHealthy(s: ClusterSnapshot, brokers = 3): boolean {
  return (
    s.running &&
    s.leader !== null &&
    s.brokers.length === brokers &&
    s.brokers.every((b) => b.process.state === 'running' && b.reachable && b.inSync) &&
    s.brokers.filter((b) => b.role === 'leader').length === 1
  );
}

/** Waits until every broker runs, is in sync and exactly one leads — the state each test starts from. */
export async function waitForHealthyCluster(request: APIRequestContext, timeout = 120_000): Promise<ClusterSnapshot> {
  let last: ClusterSnapshot | null = null;
  await expect
    .poll(
      async () => {
        last = await callApi<ClusterSnapshot>(request, 'getSnapshot').catch(() => null);
        return last !== null && isHealthy(last);
      },
      { timeout, intervals: [500], message: 'cluster healthy: 3 running in-sync brokers, one leader' },
    )
    .toBe(true);
  return last!;
}

/** Collects console errors and uncaught exceptions, so a test can assert there were none. */
export function collectConsoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

export function uniqueTopic(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e4)}`;
}

const SCREENSHOT_DIR = join('test-results', 'screenshots');
const DOCS_DIR = join('docs', 'screenshots');

/**
 * Saves a screenshot to test-results/screenshots/<name>.png and attaches it to the report.
 * With YAK_UPDATE_SCREENSHOTS=1 (or the older YAK_UPDATE_DOCS_SCREENSHOTS=1) it also refreshes
 * docs/screenshots/ for the README; never otherwise, so CI runs leave tracked files alone.
 */
export async function savePaneScreenshot(page: Page, name: string, info: TestInfo): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path });
  await info.attach(name, { path, contentType: 'image/png' });
  if (process.env.YAK_UPDATE_SCREENSHOTS === '1' || process.env.YAK_UPDATE_DOCS_SCREENSHOTS === '1') {
    mkdirSync(DOCS_DIR, { recursive: true });
    copyFileSync(path, join(DOCS_DIR, `${name}.png`));
  }
}

export async function openPane(page: Page, pane: 'dashboard' | 'producer' | 'consumer'): Promise<void> {
  await page.getByTestId(`nav-${pane}`).click();
  await expect(page.getByTestId(`pane-${pane}`)).toBeVisible();
}

/** Subscribes in the Consumer pane and returns the new subscription column. */
export async function subscribe(page: Page, topic: string, from: 'earliest' | 'latest' = 'earliest') {
  await openPane(page, 'consumer');
  await page.getByTestId('sub-topic').fill(topic);
  await page.getByTestId('sub-partition').selectOption('all');
  await page.getByTestId('sub-from').selectOption(from);
  await page.getByTestId('sub-add').click();
  const column = page.locator(`[data-testid="subscription"][data-topic="${topic}"]`);
  await expect(column).toBeVisible();
  return column;
}
