import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { brokerGet, clusterToken } from './broker-direct';
import { openPane, subscribe, uniqueTopic, waitForHealthyCluster } from './helpers';

/**
 * A topic created and written from outside the app — the `yak` CLI, as a developer would in a
 * terminal — must show in every pane as the brokers have it: its partition count (the Dashboard's
 * rows, the Producer's hint, the Consumer's partition choice) and each partition's high-water mark
 * and records, as the leader's own GET /topics and the records the CLI was acknowledged for.
 */

test.beforeEach(() => {
  test.skip(!clusterToken(), 'needs the data folder of the web host this run started (not YAK_UI_BASE_URL)');
});

const YAK = join(process.cwd(), 'broker-runtime', 'bin', 'yak.js');

function yak(args: string[], seeds: string, token: string, input?: string): string {
  const run = spawnSync(process.execPath, [YAK, ...args, '-b', seeds, '--token', token], { input, encoding: 'utf8', timeout: 60_000 });
  expect(run.status, `yak ${args.join(' ')}: ${run.stderr}`).toBe(0);
  return run.stdout;
}

test('a topic the CLI created and wrote shows its partitions, high-water marks and records as the leader has them', async ({ page, request }) => {
  test.setTimeout(150_000);
  const token = clusterToken()!;
  const snapshot = await waitForHealthyCluster(request);
  const seeds = snapshot.brokers.map((b) => b.url).join(',');
  const topic = uniqueTopic('ui-cli');
  const PARTITIONS = 5;
  yak(['topics', 'create', topic, '--partitions', String(PARTITIONS)], seeds, token);
  const lines = Array.from({ length: 17 }, (_, i) => `k${i}:{"n":${i}}`).join('\n') + '\n';
  const acked = yak(['produce', topic, '-K:', '--print-offsets'], seeds, token, lines).trim().split('\n').map((l) => JSON.parse(l) as { partition: number; offset: number });
  expect(acked).toHaveLength(17);

  // The leader's own word on every partition's high-water mark.
  const leaderUrl = snapshot.leader!.url;
  const own = await brokerGet<{ topics: { name: string; partitions: { partition: number; high_watermark: number }[] }[] }>(`${leaderUrl}/topics`, token, 2_000);
  const truth = own!.topics.find((t) => t.name === topic)!.partitions;
  expect(truth).toHaveLength(PARTITIONS);
  for (const p of truth) expect(p.high_watermark).toBe(acked.filter((a) => a.partition === p.partition).length);

  await page.goto('/');
  await openPane(page, 'dashboard');
  for (const p of truth) {
    await expect(page.getByTestId(`partition-${topic}-${p.partition}`).getByTestId('partition-hwm')).toHaveText(p.high_watermark.toLocaleString('en-US'), { timeout: 30_000 });
  }
  await expect(page.getByTestId(`topic-${topic}`).locator('[data-testid^="partition-"]').filter({ has: page.getByTestId('partition-hwm') })).toHaveCount(PARTITIONS);

  await openPane(page, 'producer');
  await page.getByTestId('produce-topic').fill(topic);
  await expect(page.locator('#p-topic-msg')).toHaveText(`${PARTITIONS} partitions`);

  await openPane(page, 'consumer');
  await page.getByTestId('sub-topic').fill(topic);
  await expect(page.getByTestId('sub-partition').locator('option')).toHaveText(['all', ...truth.map((p) => String(p.partition))]);
  const column = await subscribe(page, topic, 'earliest');
  await expect(column).toHaveAttribute('data-count', String(acked.length), { timeout: 30_000 });
  for (const p of truth) {
    const pos = column.locator(`[data-testid="sub-position"][data-partition="${p.partition}"]`);
    await expect(pos).toHaveAttribute('data-hwm', String(p.high_watermark));
    await expect(pos).toHaveText(`p${p.partition} ${p.high_watermark}/${p.high_watermark}`);
  }
  await column.getByTestId('sub-close').click();
});
