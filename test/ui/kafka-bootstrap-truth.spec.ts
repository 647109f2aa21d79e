import { spawnSync } from 'node:child_process';
import { expect, test } from '@playwright/test';
import type { ClusterSnapshot, KafkaAccess } from '../../src/shared/cluster-api';
import { callApi, openPane, waitForHealthyCluster } from './helpers';

/**
 * The Kafka clients card's bootstrap servers against what the brokers themselves say over Kafka's
 * protocol: a stopped broker's listener is gone, so a bootstrap list that still names it sends a
 * developer's client to a dead address first. The list shown must be exactly the brokers a live
 * broker's Kafka Metadata names (kcat -L), and every address in it must answer; the stopped broker
 * is marked as left out, and comes back into the list once it runs again.
 */

const SASL = (a: KafkaAccess) => ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=PLAIN', '-X', `sasl.username=${a.username}`, '-X', `sasl.password=${a.password}`];

/** The brokers one listener's Kafka Metadata names (`host:port`, sorted); null when it does not answer. */
function metadataBrokers(address: string, access: KafkaAccess): string[] | null {
  const run = spawnSync('kcat', ['-b', address, ...SASL(access), '-L', '-J', '-m', '5'], { timeout: 15_000, encoding: 'utf8' });
  if (run.status !== 0) return null;
  try {
    const meta = JSON.parse(run.stdout) as { brokers: { name: string }[] };
    return meta.brokers.map((b) => b.name).sort();
  } catch {
    return null;
  }
}

test('the bootstrap servers shown are the running brokers the cluster\'s Kafka Metadata names; a stopped broker is left out (and marked) until it runs again', async ({ page, request }) => {
  test.setTimeout(180_000);
  const snapshot = await waitForHealthyCluster(request);
  const access = await callApi<KafkaAccess>(request, 'kafkaAccess');
  // A follower: stopping it starts no election, so the test is about the list only.
  const stopped = snapshot.brokers.find((b) => b.id !== snapshot.leader!.id)!;
  const stoppedAddress = `127.0.0.1:${stopped.kafkaPort}`;
  const aliveAddress = `127.0.0.1:${snapshot.brokers.find((b) => b.id === snapshot.leader!.id)!.kafkaPort}`;

  await page.goto('/');
  await openPane(page, 'dashboard');
  const card = page.getByTestId('kafka-connect');
  await card.scrollIntoViewIfNeeded();
  const shown = card.getByTestId('kafka-bootstrap');

  /** '' when the card's list is the set the live brokers' Metadata names and each address in it answers; else what differs. */
  const listIsTrue = async (): Promise<string> => {
    const text = ((await shown.textContent()) ?? '').trim();
    const listed = text.split(',').map((s) => s.trim()).filter(Boolean).sort();
    const truth = metadataBrokers(aliveAddress, access);
    if (!truth) return `the leader's listener ${aliveAddress} did not answer Metadata`;
    if (listed.join(',') !== truth.join(',')) return `shown ${listed.join(',')}, Kafka Metadata names ${truth.join(',')}`;
    for (const address of listed) if (!metadataBrokers(address, access)) return `shown ${address}, which does not answer Kafka`;
    return '';
  };

  await expect.poll(listIsTrue, { timeout: 30_000, message: 'every broker runs: the list is every broker' }).toBe('');
  await expect(shown).toContainText(stoppedAddress);

  await page.getByTestId(`broker-card-${stopped.id}`).getByTestId('broker-stop').click();
  try {
    await expect
      .poll(async () => (await callApi<ClusterSnapshot>(request, 'getSnapshot')).brokers.find((b) => b.id === stopped.id)?.process.state, { timeout: 60_000 })
      .toBe('stopped');
    // Its listener is gone: no Kafka client can bootstrap from it.
    expect(metadataBrokers(stoppedAddress, access)).toBeNull();
    await expect(shown).not.toContainText(stoppedAddress, { timeout: 30_000 });
    await expect.poll(listIsTrue, { timeout: 60_000, message: `${stopped.id} stopped: the list is the brokers that run` }).toBe('');
    // Not silently dropped either: the card says which broker is left out and why.
    await expect(card.getByTestId('kafka-left-out')).toContainText(stopped.id);
    await expect(card.getByTestId('kafka-left-out')).toContainText('stopped');
    // The kcat line as shown works, with the dead address gone from it.
    await expect(card.getByTestId('kafka-kcat')).not.toContainText(stoppedAddress);
  } finally {
    await page.getByTestId(`broker-card-${stopped.id}`).getByTestId('broker-start').click();
  }
  await waitForHealthyCluster(request);
  await expect(shown).toContainText(stoppedAddress, { timeout: 30_000 });
  await expect(card.getByTestId('kafka-left-out')).toHaveCount(0);
  await expect.poll(listIsTrue, { timeout: 60_000, message: `${stopped.id} runs again: the list is every broker` }).toBe('');
});
