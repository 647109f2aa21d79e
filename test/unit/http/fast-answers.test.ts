import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type RunningServer, request, startServer, stubService } from './stub-service.js';

/** The hot routes write some answers by hand for speed; the text must be what JSON.stringify gives. */
describe('answers written by hand', () => {
  const stub = stubService({
    async produce(_topic, records) {
      return records.map((r, i) => ({ partition: r.partition ?? i % 3, offset: 2 ** 40 + i }));
    },
  });
  let server: RunningServer;
  before(async () => {
    server = await startServer(stub.service, 1024);
  });
  after(() => server.close());

  test('POST /produce/batch answers exactly JSON.stringify({topic, results})', async () => {
    const records = Array.from({ length: 25 }, (_, i) => ({ payload: { i }, ...(i % 4 === 0 ? { partition: 7 } : {}) }));
    const res = await request(`${server.base}/produce/batch`, { method: 'POST', body: JSON.stringify({ topic: 'orders.v1_x-y', records }) });
    assert.equal(res.status, 200);
    const results = records.map((r, i) => ({ partition: r.partition ?? i % 3, offset: 2 ** 40 + i }));
    assert.equal(res.text, JSON.stringify({ topic: 'orders.v1_x-y', results }));
  });
});
