import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { before, describe, test } from 'node:test';
import { parseAuthFile } from '../../../broker-runtime/src/auth/auth-file.js';
import { AuthGate, type Action } from '../../../broker-runtime/src/auth/gate.js';
import { hashSecret } from '../../../broker-runtime/src/auth/secret-hash.js';
import { YakError } from '../../../broker-runtime/src/errors/errors.js';

/** Just what the gate reads of a request: its headers (and its identity, for the per-request cache). */
const request = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;

async function refusal(gate: AuthGate, req: IncomingMessage, action: Action): Promise<YakError> {
  try {
    await gate.authorize(req, action);
  } catch (err) {
    assert.ok(err instanceof YakError, String(err));
    return err;
  }
  assert.fail(`expected ${JSON.stringify(action)} to be refused`);
}

describe('the auth gate', () => {
  let table: ReturnType<typeof parseAuthFile>;
  let hashes: Record<string, string>;
  before(async () => {
    const cheap = { N: 1024, r: 8, p: 1 };
    hashes = { app: await hashSecret('app-pw', cheap), ops: await hashSecret('ops:pw', cheap), slow: await hashSecret('slow-pw', cheap) };
    table = parseAuthFile(
      JSON.stringify({
        principals: {
          app: { secret_hash: hashes['app'], produce: ['orders.*'], consume: ['orders.*'] },
          ops: { secret_hash: hashes['ops'], admin: true },
          slow: { secret_hash: hashes['slow'], produce: ['*'], consume: ['*'], quota: { in_bytes_per_second: 1000, out_bytes_per_second: 100 } },
        },
      }),
    );
  });

  test('a flood of made-up tokens is checked at most two at a time; the rest get 429, and the same token sent at once is checked once', async () => {
    const gate = new AuthGate(table);
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => gate.authorize(request(`Bearer app:wrong-${i}`), { op: 'describe' })));
    const codes = results.map((r) => (r.status === 'rejected' ? (r.reason as YakError).code : 'ok'));
    assert.equal(codes.filter((c) => c === 'UNAUTHENTICATED').length, 2, codes.join());
    assert.equal(codes.filter((c) => c === 'THROTTLED').length, 8, codes.join());
    const same = await Promise.all(Array.from({ length: 10 }, () => gate.authorize(request('Bearer app:app-pw'), { op: 'describe' })));
    assert.ok(same.every((p) => p.name === 'app'), 'ten requests with one good token all pass');
  });

  test('no token, a malformed header, a wrong secret and an unknown principal are all 401 UNAUTHENTICATED', async () => {
    const gate = new AuthGate(table);
    for (const header of [undefined, 'Basic YXBwOmFwcC1wdw==', 'Bearer app:wrong', 'Bearer nobody:app-pw', 'Bearer app-pw', 'Bearer app']) {
      const err = await refusal(gate, request(header), { op: 'describe' });
      assert.equal(err.status, 401, String(header));
      assert.equal(err.code, 'UNAUTHENTICATED');
      assert.ok(!err.message.includes('app-pw'), 'never echoes a secret');
    }
  });

  test('a valid token names its principal; the scheme is case-insensitive and a secret may hold a colon', async () => {
    const gate = new AuthGate(table);
    assert.equal((await gate.authorize(request('Bearer app:app-pw'), { op: 'describe' })).name, 'app');
    assert.equal((await gate.authorize(request('bearer  ops:ops:pw'), { op: 'admin' })).name, 'ops');
  });

  test('permissions: topic patterns for produce and consume, admin for cluster changes; 403 FORBIDDEN otherwise', async () => {
    const gate = new AuthGate(table);
    const app = 'Bearer app:app-pw';
    await gate.authorize(request(app), { op: 'produce', topic: 'orders.eu' });
    await gate.authorize(request(app), { op: 'consume', topic: 'orders.us' });
    await gate.authorize(request(app), { op: 'produce' });
    const cases: [string, Action][] = [
      [app, { op: 'produce', topic: 'payments' }],
      [app, { op: 'consume', topic: 'orders' }],
      [app, { op: 'admin' }],
      ['Bearer ops:ops:pw', { op: 'produce' }],
      ['Bearer ops:ops:pw', { op: 'consume', topic: 'orders.eu' }],
    ];
    for (const [header, action] of cases) {
      const err = await refusal(gate, request(header), action);
      assert.equal(err.status, 403, JSON.stringify(action));
      assert.equal(err.code, 'FORBIDDEN');
    }
  });

  test('over a quota the next request is 429 THROTTLED with retry_after_ms; produce and consume have their own buckets', async () => {
    let now = 0;
    const gate = new AuthGate(table, () => now);
    const first = request('Bearer slow:slow-pw');
    await gate.authorize(first, { op: 'produce', topic: 't' });
    gate.charge(first, 'in', 3000);
    const err = await refusal(gate, request('Bearer slow:slow-pw'), { op: 'produce', topic: 't' });
    assert.equal(err.status, 429);
    assert.equal(err.code, 'THROTTLED');
    assert.equal(err.retriable, true);
    assert.equal(err.extra['retry_after_ms'], 2000);
    await gate.authorize(request('Bearer slow:slow-pw'), { op: 'consume', topic: 't' });
    now = 2000;
    await gate.authorize(request('Bearer slow:slow-pw'), { op: 'produce', topic: 't' });
  });

  test('a principal without quota is never throttled', async () => {
    const gate = new AuthGate(table);
    const req = request('Bearer app:app-pw');
    await gate.authorize(req, { op: 'produce', topic: 'orders.x' });
    gate.charge(req, 'in', 1e12);
    await gate.authorize(request('Bearer app:app-pw'), { op: 'produce', topic: 'orders.x' });
  });

  test('replace() swaps principals in at once: removed ones fail, added ones pass, debts are kept', async () => {
    let now = 0;
    const gate = new AuthGate(table, () => now);
    const req = request('Bearer slow:slow-pw');
    await gate.authorize(req, { op: 'consume', topic: 't' });
    gate.charge(req, 'out', 300);
    const newer = parseAuthFile(
      JSON.stringify({
        principals: {
          slow: { secret_hash: hashes['slow'], consume: ['*'], quota: { out_bytes_per_second: 100 } },
          fresh: { secret_hash: hashes['app'], consume: ['*'] },
        },
      }),
    );
    gate.replace(newer);
    assert.equal(gate.principalCount, 2);
    assert.equal((await refusal(gate, request('Bearer app:app-pw'), { op: 'describe' })).status, 401, 'a cached token of a removed principal is forgotten');
    assert.equal((await gate.authorize(request('Bearer fresh:app-pw'), { op: 'consume', topic: 'x' })).name, 'fresh');
    assert.equal((await refusal(gate, request('Bearer slow:slow-pw'), { op: 'consume', topic: 't' })).status, 429, 'the debt survives a reload');
    assert.equal((await refusal(gate, request('Bearer slow:slow-pw'), { op: 'produce', topic: 't' })).status, 403, 'new permissions apply');
  });
});
