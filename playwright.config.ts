import { defineConfig } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * UI tests drive the real web host (`npm run web`: supervisor + Redis + 3 brokers) in Chromium.
 *
 * - The system Chromium is used when present; a browser is never downloaded.
 * - Each run gets a free port and a fresh data folder, so it never touches a developer's cluster.
 * - YAK_UI_BASE_URL=http://127.0.0.1:5170 runs the suite against a host that is already running.
 */
const SYSTEM_CHROMIUM = '/usr/bin/chromium';
const external = process.env.YAK_UI_BASE_URL;

// This file is evaluated by the runner and again by every worker; the runner's choice of port and
// folder travels to the workers through the environment they inherit.
if (!external && !process.env.YAK_UI_PORT) {
  process.env.YAK_UI_PORT = execFileSync(process.execPath, [
    '-e',
    "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})",
  ]).toString();
  const dataDir = mkdtempSync(join(tmpdir(), 'yak-ui-'));
  process.env.YAK_UI_DATA_DIR = dataDir;
  process.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
}
const baseURL = external ?? `http://127.0.0.1:${process.env.YAK_UI_PORT}`;

export default defineConfig({
  testDir: 'test/ui',
  outputDir: 'test-results/ui',
  // One cluster is shared by every test and some of them kill its brokers: one at a time.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 20_000 },
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    baseURL,
    viewport: { width: 1440, height: 960 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      ...(existsSync(SYSTEM_CHROMIUM) ? { executablePath: SYSTEM_CHROMIUM } : {}),
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  webServer: external
    ? undefined
    : {
        command: 'npm run web',
        url: `${baseURL}/`,
        env: { YAK_WEB_PORT: process.env.YAK_UI_PORT!, YAK_DATA_DIR: process.env.YAK_UI_DATA_DIR! },
        timeout: 180_000,
        reuseExistingServer: false,
        stdout: 'pipe',
        stderr: 'pipe',
        // SIGTERM is the supervisor's clean path: it stops Redis and every broker before exiting.
        gracefulShutdown: { signal: 'SIGTERM', timeout: 15_000 },
      },
  projects: [
    { name: 'cluster-ready', testMatch: /cluster\.setup\.ts$/ },
    {
      name: 'web',
      testMatch: /\.spec\.ts$/,
      testIgnore: /electron\.spec\.ts$/,
      dependencies: ['cluster-ready'],
      use: { browserName: 'chromium' },
    },
    { name: 'electron', testMatch: /electron\.spec\.ts$/ },
  ],
});
