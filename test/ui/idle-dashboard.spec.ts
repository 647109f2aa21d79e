import { expect, test, type Page } from '@playwright/test';
import { clusterToken } from './broker-direct';
import { callApi, openPane, uniqueTopic, waitForHealthyCluster } from './helpers';

/**
 * Issue 11, item 10: an idle Dashboard draws nothing. Checked by counting requestAnimationFrame
 * calls and running animations (not by a CPU threshold): none while nothing changes, frames only
 * while records really flow, single frames under prefers-reduced-motion, none while the window is
 * hidden. The CPU an idle Dashboard costs is printed (CDP Performance metrics), not asserted.
 */
declare global {
  interface Window { __raf: { calls: number; chained: number } }
}

async function frames(page: Page): Promise<{ calls: number; chained: number }> {
  return page.evaluate(() => ({ ...window.__raf }));
}
async function resetFrames(page: Page): Promise<void> {
  await page.evaluate(() => { window.__raf.calls = 0; window.__raf.chained = 0; });
}

test.beforeEach(async ({ page }) => {
  // Counts every frame asked for, and those asked for from inside a frame (a loop).
  await page.addInitScript(() => {
    const counts = { calls: 0, chained: 0 };
    let inFrame = false;
    const raf = window.requestAnimationFrame.bind(window);
    window.__raf = counts;
    window.requestAnimationFrame = (cb: FrameRequestCallback) => {
      counts.calls++;
      if (inFrame) counts.chained++;
      return raf((t) => {
        inFrame = true;
        try {
          cb(t);
        } finally {
          inFrame = false;
        }
      });
    };
  });
});

test('an idle Dashboard requests no frames and runs no animation; records flowing do; reduced motion and a hidden window draw no loop', async ({ page, request }) => {
  const snapshot = await waitForHealthyCluster(request);
  await page.emulateMedia({ reducedMotion: 'no-preference' });
  await page.goto('/');
  await openPane(page, 'dashboard');
  const flow = page.getByTestId('replication-flow');
  await expect(flow).toHaveAttribute('data-animating', 'false');

  // Idle: several snapshots arrive, nothing is drawn, nothing animates.
  await resetFrames(page);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const metric = async (name: string) => ((await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === name)?.value ?? 0);
  const [task0, at0] = [await metric('TaskDuration'), Date.now()];
  await page.waitForTimeout(5_000);
  const [task1, at1] = [await metric('TaskDuration'), Date.now()];
  console.log(`idle Dashboard: renderer main thread busy ${(((task1 - task0) * 1000) / (at1 - at0) * 100).toFixed(1)}% of one core over ${((at1 - at0) / 1000).toFixed(1)} s (CDP TaskDuration)`);
  expect(await frames(page)).toEqual({ calls: 0, chained: 0 });
  const running = await page.evaluate(() =>
    document.getAnimations().filter((a) => a.playState === 'running').map((a) => {
      const target = (a.effect as KeyframeEffect | null)?.target;
      return `${(a as CSSAnimation).animationName ?? (a as CSSTransition).transitionProperty ?? a.constructor.name} on ${target?.tagName ?? '?'}.${target?.className ?? ''} ${target?.getAttribute('data-testid') ?? ''}`;
    }),
  );
  expect(running).toEqual([]);

  // Records flowing: dots travel, so frames are drawn — and stop once they have arrived.
  const token = clusterToken();
  const topic = uniqueTopic('ui-idle');
  await callApi(request, 'createTopic', topic, 1);
  const produce = async () => {
    if (token) {
      const res = await fetch(`${snapshot.leader!.url}/produce/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ topic, records: Array.from({ length: 5 }, (_, i) => ({ payload: i })) }),
      });
      expect(res.status).toBe(200);
    } else await callApi(request, 'produceBatch', topic, Array.from({ length: 5 }, (_, i) => ({ payload: i })));
  };
  await produce();
  await expect.poll(async () => (await frames(page)).chained, { timeout: 20_000 }).toBeGreaterThan(0);
  await expect(flow).toHaveAttribute('data-animating', 'false');

  // prefers-reduced-motion: a change is drawn once, never as a loop.
  await page.emulateMedia({ reducedMotion: 'reduce' });
  await resetFrames(page);
  await produce();
  await expect.poll(async () => (await frames(page)).calls, { timeout: 20_000 }).toBeGreaterThan(0);
  await expect(flow).toHaveAttribute('data-animating', 'false');
  expect((await frames(page)).chained).toBe(0);
  await page.emulateMedia({ reducedMotion: 'no-preference' });

  // A hidden window: records keep flowing, nothing is drawn.
  await page.evaluate(() => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await expect(flow).toHaveAttribute('data-animating', 'false');
  await resetFrames(page);
  await produce();
  const hwm = async () => ((await callApi<{ topics: { name: string; partitions: { highWatermark: number }[] }[] }>(request, 'getSnapshot')).topics.find((t) => t.name === topic)?.partitions[0]?.highWatermark ?? 0);
  await expect.poll(hwm, { timeout: 20_000 }).toBe(15);
  // Two snapshots later the UI has seen the new records too.
  await page.waitForTimeout(2_500);
  expect(await frames(page)).toEqual({ calls: 0, chained: 0 });
});
