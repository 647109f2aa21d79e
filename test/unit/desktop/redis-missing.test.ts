import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Supervisor } from '../../../src/main/supervisor/index.js';
import { locateRedisServer } from '../../../src/main/supervisor/redis/locate.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function supervisorWithout(env: NodeJS.ProcessEnv, lines: string[]): Promise<Supervisor> {
  const dataDir = await mkdtemp(join(tmpdir(), 'yak-desktop-noredis-'));
  dirs.push(dataDir);
  // A broker entry that exists, so the only thing missing is Redis.
  return Supervisor.create({ dataDir, env, brokerEntry: import.meta.filename, log: (l) => lines.push(l) });
}

function assertSaysWhatToInstall(text: string | null): void {
  assert.ok(text, 'a problem text is expected');
  assert.match(text, /redis-server was not found/);
  assert.match(text, /apt-get install redis-server/);
  assert.match(text, /brew install redis/);
  assert.match(text, /external Redis URL/);
}

describe('without a redis-server', () => {
  it('REDIS_SERVER_BIN pointing nowhere: start is refused, and the snapshot and the terminal say what to install', async () => {
    const lines: string[] = [];
    const sup = await supervisorWithout({ REDIS_SERVER_BIN: '/nonexistent/redis-server', PATH: '/nonexistent-bin' }, lines);
    assertSaysWhatToInstall((await sup.getSnapshot()).redis.problem);
    await assert.rejects(sup.startCluster(), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'REDIS_NOT_FOUND');
      assertSaysWhatToInstall(err.message);
      assert.match(err.message, /REDIS_SERVER_BIN=\/nonexistent\/redis-server is not an executable file/);
      return true;
    });
    const snap = await sup.getSnapshot();
    assert.equal(snap.running, false);
    assert.equal(snap.redis.mode, 'embedded');
    assertSaysWhatToInstall(snap.redis.problem);
    assert.ok(lines.some((l) => l.includes('apt-get install redis-server')), 'the terminal says it too');
    assert.ok((await sup.recentEvents()).some((e) => e.kind === 'error' && e.message.includes('brew install redis')));
    assert.deepEqual(sup.livePids(), []);
  });

  it('not on PATH: the problem names PATH; an external URL in the settings clears it', async () => {
    const sup = await supervisorWithout({ PATH: '/nonexistent-bin' }, []);
    const { redis } = await sup.getSnapshot();
    assertSaysWhatToInstall(redis.problem);
    assert.match(redis.problem!, /not on PATH/);
    await sup.updateSettings({ externalRedisUrl: 'redis://127.0.0.1:6399' });
    const after = await sup.getSnapshot();
    assert.equal(after.redis.mode, 'external');
    assert.equal(after.redis.problem, null);
  });

  it('finds redis-server on PATH when it is there', { skip: !locateRedisServer(process.env).found && 'no redis-server here' }, () => {
    const found = locateRedisServer({ PATH: `/nonexistent:${process.env['PATH']}` });
    assert.equal(found.found, true);
  });
});
