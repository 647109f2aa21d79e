import { execFileSync } from 'node:child_process';
import { expect, test } from '@playwright/test';
import { brokerGet, clusterToken } from './broker-direct';
import { callApi, openPane, uniqueTopic, waitForHealthyCluster } from './helpers';

/**
 * The page learns of the cluster only through its host. When the host stops answering (here:
 * SIGSTOP of the web host this run started — its brokers go on running and taking writes), the
 * brokers' numbers move on while the page's cannot: it must say that what it shows is old, not go
 * on showing it as current. Once the host answers again, the page shows the brokers' numbers.
 */

test.beforeEach(() => {
  test.skip(!clusterToken() || !process.env.YAK_UI_PORT, 'needs the web host this run started (not YAK_UI_BASE_URL)');
});

/** The pid listening on the web host's port (the host this Playwright run started). */
function hostPid(): number {
  const out = execFileSync('ss', ['-ltnpH', `sport = :${process.env.YAK_UI_PORT}`]).toString();
  const pid = /pid=(\d+)/.exec(out)?.[1];
  if (!pid) throw new Error(`no process listens on port ${process.env.YAK_UI_PORT}: ${out}`);
  return Number(pid);
}

async function leaderHwm(url: string, token: string, topic: string): Promise<number | null> {
  const t = (await brokerGet<{ topics: { name: string; partitions: { high_watermark: number }[] }[] }>(`${url}/topics`, token, 2_000))?.topics.find((x) => x.name === topic);
  return t?.partitions[0]?.high_watermark ?? null;
}

test('a host that stops answering: the page says its numbers are old while the brokers\' move on, and shows theirs once it answers again', async ({ page, request }) => {
  test.setTimeout(150_000);
  const token = clusterToken()!;
  const snapshot = await waitForHealthyCluster(request);
  const leader = snapshot.leader!;
  const topic = uniqueTopic('ui-host-stale');
  await callApi(request, 'createTopic', topic, 1);
  const produce = async (n: number) => {
    const res = await fetch(`${leader.url}/produce/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ topic, records: Array.from({ length: n }, (_, i) => ({ payload: { i } })) }),
    });
    expect(res.status).toBe(200);
  };
  await produce(5);

  await page.goto('/');
  await openPane(page, 'dashboard');
  const hwm = page.getByTestId(`partition-${topic}-0`).getByTestId('partition-hwm');
  await expect(hwm).toHaveText('5');
  await expect(page.getByTestId('pane-dashboard')).toHaveAttribute('data-stale', 'false');

  const pid = hostPid();
  process.kill(pid, 'SIGSTOP');
  try {
    // The brokers go on: their high-water mark moves past what the page can know.
    await produce(7);
    expect(await leaderHwm(leader.url, token, topic)).toBe(12);
    // The page does not go on presenting 5 as the current number.
    await expect(page.getByTestId('connection-banner')).toBeVisible({ timeout: 30_000 });
    await expect(page.getByTestId('connection-banner')).toContainText('not answering');
    await expect(page.getByTestId('pane-dashboard')).toHaveAttribute('data-stale', 'true');
    await expect(page.getByTestId('sidebar-status')).not.toContainText('Connected');
    await expect(hwm).toHaveText('5');
  } finally {
    process.kill(pid, 'SIGCONT');
  }

  // Answering again: the brokers' number, and nothing marked old.
  await expect(hwm).toHaveText('12', { timeout: 30_000 });
  await expect(page.getByTestId('connection-banner')).toHaveCount(0, { timeout: 30_000 });
  await expect(page.getByTestId('pane-dashboard')).toHaveAttribute('data-stale', 'false');
  expect(await leaderHwm(leader.url, token, topic)).toBe(12);
  await waitForHealthyCluster(request);
});
