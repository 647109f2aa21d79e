import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffDelay, retryPolicy, withRetry } from '../../../broker-runtime/src/client/retry.js';

describe('retry policy', () => {
  const policy = retryPolicy({ retries: 4, minDelayMs: 50, maxDelayMs: 1000 });

  test('backoff doubles from minDelayMs up to maxDelayMs, with half of it jittered', () => {
    const ceilings = [50, 100, 200, 400, 800, 1000, 1000];
    ceilings.forEach((ceiling, retry) => {
      assert.equal(backoffDelay(policy, retry, () => 0), ceiling / 2);
      assert.equal(backoffDelay(policy, retry, () => 1), ceiling);
    });
    assert.equal(backoffDelay(policy, 10_000, () => 1), 1000, 'huge retry counts do not overflow');
  });

  test('defaults are 10 retries from 50 ms to 1 s', () => {
    assert.deepEqual(retryPolicy(), { retries: 10, minDelayMs: 50, maxDelayMs: 1000 });
    assert.deepEqual(retryPolicy({ retries: undefined, minDelayMs: 1 }), { retries: 10, minDelayMs: 1, maxDelayMs: 1000 });
  });

  test('withRetry spends exactly the budget, then throws what exhausted() builds', async () => {
    let tries = 0;
    const fast = retryPolicy({ retries: 3, minDelayMs: 1, maxDelayMs: 1 });
    await assert.rejects(
      withRetry(fast, async () => {
        tries++;
        throw new Error('down');
      }, { decide: () => 'retry', exhausted: (last) => new Error(`gave up: ${(last as Error).message}`) }),
      /gave up: down/,
    );
    assert.equal(tries, 4);
  });

  test("withRetry rethrows at once when decide says 'stop', and retries 'retry-now' without waiting", async () => {
    const slow = retryPolicy({ retries: 5, minDelayMs: 10_000, maxDelayMs: 10_000 });
    let tries = 0;
    const started = Date.now();
    const result = await withRetry(slow, async (n) => {
      tries++;
      if (n < 3) throw new Error('moved');
      return 'done';
    }, { decide: () => 'retry-now', exhausted: (e) => e as Error });
    assert.equal(result, 'done');
    assert.equal(tries, 4);
    assert.ok(Date.now() - started < 1000);
    await assert.rejects(withRetry(slow, async () => Promise.reject(new Error('final')), { decide: () => 'stop', exhausted: (e) => e as Error }), /final/);
  });
});
