import { expect, test, type Page } from '@playwright/test';
import type { ClusterSnapshot } from '../../src/shared/cluster-api';
import { brokerGet, clusterToken } from './broker-direct';
import { callApi, isHealthy, openPane, subscribe, uniqueTopic, waitForHealthyCluster } from './helpers';

/**
 * Issue 11, item 9: layout and contrast. A 249-character topic name stays inside the Topics table,
 * 7 brokers do not overlap in the Replication drawing, 4 subscriptions fit at 1440 px, hint text
 * and badges reach WCAG AA (4.5:1) in light and dark (ratios computed from the computed colours),
 * and a refused setting is shown next to its field.
 */
test.beforeEach(() => {
  test.skip(!clusterToken(), 'needs the data folder of the web host this run started (not YAK_UI_BASE_URL)');
});

/** Nothing wider than the window: no page-level horizontal scroll. */
async function noHorizontalOverflow(page: Page): Promise<void> {
  const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  expect(scroll).toBeLessThanOrEqual(client);
}

test('a 249-character topic name stays inside the Topics table, and 4 subscriptions fit at 1440 px', async ({ page, request }) => {
  const token = clusterToken()!;
  const snapshot = await waitForHealthyCluster(request);
  const name = `ui-long-${'x'.repeat(249 - 8)}`;
  expect(name).toHaveLength(249);
  await callApi(request, 'createTopic', name, 1).catch((e: Error) => expect(e.message).toContain('TOPIC_EXISTS'));
  const listed = await brokerGet<{ topics: { name: string }[] }>(`${snapshot.leader!.url}/topics`, token, 2_000);
  expect(listed!.topics.map((t) => t.name)).toContain(name);

  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto('/');
  const table = page.getByTestId('topic-table');
  await expect(table.getByTestId(`topic-${name}`)).toBeVisible();
  const box = (await table.boundingBox())!;
  expect(box.x + box.width).toBeLessThanOrEqual(1440);
  const inner = await table.locator('.scroll').evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
  expect(inner.scroll).toBeLessThanOrEqual(inner.client);
  await noHorizontalOverflow(page);

  // Four subscriptions side by side, each whole: no column cut off, nothing inside a column cut off.
  const topics = await Promise.all([0, 1, 2, 3].map(async (i) => {
    const t = uniqueTopic(`ui-four-${i}`);
    await callApi(request, 'createTopic', t, 1);
    return t;
  }));
  for (const t of topics) await subscribe(page, t);
  const columns = page.getByTestId('subscription');
  await expect(columns).toHaveCount(4);
  const area = await page.locator('.columns').evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
  expect(area.scroll).toBeLessThanOrEqual(area.client);
  for (const c of await columns.all()) {
    const b = (await c.boundingBox())!;
    expect(b.x + b.width).toBeLessThanOrEqual(1440);
    const head = await c.locator('.head').evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
    expect(head.scroll).toBeLessThanOrEqual(head.client);
  }
  await noHorizontalOverflow(page);
});

test('7 brokers do not overlap in the Replication drawing', async ({ page, request }) => {
  test.setTimeout(240_000);
  const token = clusterToken()!;
  await waitForHealthyCluster(request);
  const added: string[] = [];
  try {
    for (let i = 0; i < 4; i++) added.push(await callApi<string>(request, 'addBroker'));
    let seven: ClusterSnapshot | null = null;
    await expect.poll(async () => {
      seven = await callApi<ClusterSnapshot>(request, 'getSnapshot');
      return isHealthy(seven, 7);
    }, { timeout: 150_000, intervals: [1_000] }).toBe(true);
    // The brokers' own view: 7 members.
    const view = await brokerGet<{ brokers: { id: string }[] }>(`${seven!.leader!.url}/metadata/cluster`, token, 2_000);
    expect(view!.brokers).toHaveLength(7);

    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto('/');
    await openPane(page, 'dashboard');
    const flow = page.getByTestId('replication-flow');
    await expect.poll(async () => JSON.parse((await flow.getAttribute('data-boxes')) ?? '[]').length, { timeout: 20_000 }).toBe(8);
    await expect(flow).toHaveAttribute('data-animating', 'false');
    const boxes = JSON.parse((await flow.getAttribute('data-boxes'))!) as { id: string; left: number; right: number; top: number; bottom: number }[];
    const overlaps: string[] = [];
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i]!;
        const b = boxes[j]!;
        if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) overlaps.push(`${a.id} × ${b.id}`);
      }
    expect(overlaps).toEqual([]);
    const size = await flow.evaluate((el) => ({ w: el.clientWidth, h: el.clientHeight }));
    for (const b of boxes) {
      expect(b.top).toBeGreaterThanOrEqual(0);
      expect(b.bottom).toBeLessThanOrEqual(size.h);
    }
  } finally {
    for (const id of added.reverse()) await callApi(request, 'removeBroker', id).catch(() => undefined);
    await waitForHealthyCluster(request);
  }
});

/** Text/background pairs below 4.5:1, for every visible hint, faint text and badge on the page. */
async function lowContrast(page: Page): Promise<string[]> {
  const { checked, bad } = await page.evaluate(() => {
    type RGBA = [number, number, number, number];
    const parse = (s: string): RGBA | null => {
      let m = /^rgba?\(([^)]+)\)$/.exec(s);
      if (m) {
        const p = m[1]!.split(/[\s,/]+/).filter(Boolean).map(Number);
        return [p[0]! / 255, p[1]! / 255, p[2]! / 255, p[3] ?? 1];
      }
      m = /^color\(srgb ([^)]+)\)$/.exec(s);
      if (m) {
        const p = m[1]!.split(/[\s/]+/).filter(Boolean).map(Number);
        return [p[0]!, p[1]!, p[2]!, p[3] ?? 1];
      }
      return null;
    };
    const over = (top: RGBA, under: RGBA): RGBA => [0, 1, 2].map((i) => top[i]! * top[3] + under[i]! * (1 - top[3])).concat(1) as RGBA;
    const background = (el: Element | null): RGBA => {
      const layers: RGBA[] = [];
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c && c[3] > 0) {
          layers.push(c);
          if (c[3] >= 1) break;
        }
      }
      let out: RGBA = [1, 1, 1, 1];
      for (const l of layers.reverse()) out = over(l, out);
      return out;
    };
    const lum = (c: RGBA) => {
      const f = (v: number) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
    };
    const bad: string[] = [];
    const seen = new Set<string>();
    let checked = 0;
    for (const el of Array.from(document.querySelectorAll('.faint, .field-hint, .hint, .muted, .badge, table.grid th'))) {
      const rect = el.getBoundingClientRect();
      if (rect.width === 0 || rect.height === 0 || !(el.textContent ?? '').trim()) continue;
      const style = getComputedStyle(el);
      const fg = parse(style.color);
      if (!fg || style.visibility === 'hidden' || Number(style.opacity) < 1) continue;
      checked++;
      const bg = background(el);
      const text = over(fg, bg);
      const [hi, lo] = [lum(text), lum(bg)].sort((a, b) => b - a);
      const ratio = (hi! + 0.05) / (lo! + 0.05);
      const key = `${el.className}|${style.color}|${bg.join()}`;
      if (ratio < 4.5 && !seen.has(key)) {
        seen.add(key);
        bad.push(`${ratio.toFixed(2)}:1 "${(el.textContent ?? '').trim().slice(0, 30)}" (${el.className}) ${style.color}`);
      }
    }
    return { checked, bad };
  });
  // The page really had hints and badges to measure.
  expect(checked).toBeGreaterThan(3);
  return bad;
}

for (const scheme of ['light', 'dark'] as const) {
  test(`hint text and badges reach 4.5:1 in ${scheme}`, async ({ page, request }) => {
    await waitForHealthyCluster(request);
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto('/');
    await expect(page.locator('html')).toHaveAttribute('data-theme', scheme);
    await expect(page.getByTestId('insync-badge').first()).toBeVisible();
    expect(await lowContrast(page)).toEqual([]);
    await openPane(page, 'producer');
    expect(await lowContrast(page)).toEqual([]);
    await openPane(page, 'consumer');
    expect(await lowContrast(page)).toEqual([]);
  });
}

test('a refused setting is shown next to its field, not only as a toast', async ({ page, request }) => {
  const before = await callApi<{ leaseSeconds: number; renewSeconds: number }>(request, 'getSettings');
  await page.goto('/');
  await page.getByTestId('open-settings').click();
  const dialog = page.getByTestId('settings-dialog');
  await expect(dialog.locator('#s-lease')).toHaveValue(String(before.leaseSeconds));
  // Renewing no sooner than the lease runs out is refused by the host.
  await dialog.locator('#s-renew').fill(String(before.leaseSeconds + 1));
  await dialog.getByRole('button', { name: 'Save' }).click();
  const field = dialog.getByTestId('settings-field-renewSeconds');
  await expect(field.getByTestId('settings-field-error')).toContainText('renewSeconds');
  await expect(dialog.locator('#s-renew')).toHaveAttribute('aria-invalid', 'true');
  await expect(dialog).toBeVisible();
  // Nothing changed.
  expect(await callApi<{ renewSeconds: number }>(request, 'getSettings')).toMatchObject({ renewSeconds: before.renewSeconds });
  await dialog.getByRole('button', { name: 'Cancel' }).click();
});
