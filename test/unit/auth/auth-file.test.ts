import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { AuthFileError, loadAuthFile, parseAuthFile } from '../../../broker-runtime/src/auth/auth-file.js';
import { hashSecret } from '../../../broker-runtime/src/auth/secret-hash.js';

describe('the auth file', () => {
  let hash = '';
  before(async () => {
    hash = await hashSecret('pw', { N: 1024, r: 8, p: 1 });
  });
  const file = (principals: Record<string, unknown>) => JSON.stringify({ principals });

  test('a principal has a hashed secret, produce and consume patterns, admin and two optional quotas', () => {
    const table = parseAuthFile(
      file({
        app: { secret_hash: hash, produce: ['orders.*'], consume: ['orders.*', 'audit'], quota: { in_bytes_per_second: 1000, out_bytes_per_second: 5000 } },
        ops: { secret_hash: hash, admin: true },
      }),
    );
    const app = table.principals.get('app')!;
    assert.equal(app.name, 'app');
    assert.ok(app.produce.matches('orders.eu') && !app.produce.matches('audit'));
    assert.ok(app.consume.matches('audit'));
    assert.equal(app.admin, false);
    assert.deepEqual([app.inBytesPerSecond, app.outBytesPerSecond], [1000, 5000]);
    const ops = table.principals.get('ops')!;
    assert.equal(ops.admin, true);
    assert.equal(ops.produce.any, false, 'no patterns = no topics');
    assert.deepEqual([ops.inBytesPerSecond, ops.outBytesPerSecond], [null, null], 'no quota = unlimited');
  });

  test('`groups` patterns limit the consumer groups a principal may use; absent means any group (files from before the field)', async () => {
    const { mayUseGroup } = await import('../../../broker-runtime/src/auth/principal.js');
    const table = parseAuthFile(file({ team: { secret_hash: hash, consume: ['*'], groups: ['team.*'] }, old: { secret_hash: hash, consume: ['*'] }, ops: { secret_hash: hash, admin: true, groups: [] } }));
    assert.equal(mayUseGroup(table.principals.get('team')!, 'team.billing'), true);
    assert.equal(mayUseGroup(table.principals.get('team')!, 'other'), false);
    assert.equal(mayUseGroup(table.principals.get('old')!, 'anything'), true);
    assert.equal(mayUseGroup(table.principals.get('ops')!, 'anything'), true, 'an admin may use any group');
    assert.throws(() => parseAuthFile(file({ app: { secret_hash: hash, groups: ['not ok'] } })), /principals\.app\.groups\[0\] 'not ok' is not a topic pattern/);
  });

  test('every mistake is refused with one line naming where it is', () => {
    const cases: [string, RegExp][] = [
      ['not json', /not valid JSON/],
      ['[]', /the file must be a JSON object/],
      ['{"principal": {}}', /unknown field 'principal'/],
      [file({}), /principals is empty/],
      [file({ 'a:b': { secret_hash: 'x' } }), /principals\.a:b: the name/],
      [file({ app: {} }), /principals\.app\.secret_hash is required/],
      [file({ app: { secret: 'pw' } }), /principals\.app: unknown field 'secret'/],
      [file({ app: { secret_hash: 'pw' } }), /principals\.app\.secret_hash is not a secret hash/],
      [file({ app: { secret_hash: '$H', produce: 'orders.*' } }), /principals\.app\.produce must be a list/],
      [file({ app: { secret_hash: '$H', consume: ['ok', 'not ok'] } }), /principals\.app\.consume\[1\] 'not ok' is not a topic pattern/],
      [file({ app: { secret_hash: '$H', admin: 'yes' } }), /principals\.app\.admin must be true or false/],
      [file({ app: { secret_hash: '$H', quota: { in_bytes_per_second: 0 } } }), /quota\.in_bytes_per_second must be a whole number/],
      [file({ app: { secret_hash: '$H', quota: { in: 5 } } }), /quota: unknown field 'in'/],
      [file({ app: { secret_hash: '$H', quota: { out_bytes_per_second: 1.5 } } }), /quota\.out_bytes_per_second/],
    ];
    for (const [text, why] of cases) {
      const input = text.replaceAll('$H', hash);
      assert.throws(() => parseAuthFile(input), (err: Error) => err instanceof AuthFileError && why.test(err.message) && !err.message.includes('\n'), input);
    }
  });

  test('loading reads the file; a missing file says so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'yak-auth-'));
    try {
      const path = join(dir, 'principals.json');
      await writeFile(path, file({ app: { secret_hash: hash, consume: ['*'] } }));
      assert.equal((await loadAuthFile(path)).principals.size, 1);
      await assert.rejects(loadAuthFile(join(dir, 'nope.json')), /no such file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
