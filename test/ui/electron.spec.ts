import { _electron as electron, expect, test } from '@playwright/test';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The path of the Electron binary, or why there is none (the npm package installs without it offline). */
function electronBinary(): { path: string } | { reason: string } {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    if (typeof path === 'string' && existsSync(path)) return { path };
    return { reason: `the Electron binary is not installed (expected at ${String(path)})` };
  } catch (error) {
    return { reason: `the Electron binary is not installed: ${(error as Error).message.split('\n')[0]}` };
  }
}

const binary = electronBinary();

test('the desktop app opens a window that shows the Dashboard', async () => {
  test.skip('reason' in binary, 'reason' in binary ? binary.reason : '');
  if (!('path' in binary)) return;
  test.setTimeout(180_000);
  // Its own data folder, so the app's cluster never shares files with the web host's.
  const env = { ...process.env } as Record<string, string>;
  if (process.env.YAK_UI_DATA_DIR) env.YAK_DATA_DIR = `${process.env.YAK_UI_DATA_DIR}-electron`;
  const app = await electron.launch({ executablePath: binary.path, args: ['.'], env });
  try {
    const window = await app.firstWindow();
    await expect(window.getByTestId('pane-dashboard')).toBeVisible({ timeout: 60_000 });
    await expect(window.locator('[data-testid^="broker-card-"]').first()).toBeVisible({ timeout: 120_000 });
    expect(await window.evaluate(() => typeof (window as unknown as { yak?: unknown }).yak)).toBe('object');
  } finally {
    await app.close();
  }
});
