import { spawnSync } from 'node:child_process';
import { expect, test } from '@playwright/test';
import type { KafkaAccess } from '../../src/shared/cluster-api';
import { callApi, openPane, waitForHealthyCluster } from './helpers';

/**
 * Issue 15: the Dashboard shows how a real Kafka client connects — every broker's Kafka listener
 * as bootstrap servers, and a kcat line whose password stays hidden until asked for. The line as
 * the page shows it (revealed) is run with Debian's kcat against the running cluster.
 */
test('the Kafka clients card: bootstrap servers of every broker, a kcat line that works as shown', async ({ page, request }) => {
  const snapshot = await waitForHealthyCluster(request);
  const access = await callApi<KafkaAccess>(request, 'kafkaAccess');
  expect(access.bootstrap).toBe(snapshot.brokers.map((b) => `127.0.0.1:${b.kafkaPort}`).join(','));
  await page.goto('/');
  await openPane(page, 'dashboard');
  const card = page.getByTestId('kafka-connect');
  await card.scrollIntoViewIfNeeded();
  await expect(card.getByTestId('kafka-bootstrap')).toHaveText(access.bootstrap);
  const kcatLine = card.getByTestId('kafka-kcat');
  await expect(kcatLine).toContainText('sasl.password=••••••');
  await expect(kcatLine).not.toContainText(access.password);
  await card.getByTestId('kafka-reveal').click();
  await expect(kcatLine).toContainText(`sasl.password=${access.password}`);
  const shown = (await kcatLine.textContent())!.trim();
  const run = spawnSync('kcat', shown.split(' ').slice(1), { timeout: 30_000, encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  expect(run.stdout).toContain(`${snapshot.brokers.length} brokers`);
});
