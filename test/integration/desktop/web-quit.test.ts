import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterSnapshot } from '../../../src/shared/cluster-api.js';
import { pidAlive, startWebHost, tempDataDir, waitPidsGone } from '../../helpers/desktop.js';
import { waitFor } from '../../../testkit/wait.js';

/**
 * Quit in web mode goes through the same code as the Electron app's SIGINT/SIGTERM hooks:
 * the host must take every child with it.
 */
describe('web host quit', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} to \`npm run web\` stops Redis and every broker, leaving no process behind`, async () => {
      const data = await tempDataDir();
      const web = await startWebHost({ YAK_DATA_DIR: data.dir });
      try {
        const snap = await waitFor('redis and three brokers running', async () => {
          const s = (await web.call('getSnapshot', [])).body.result as ClusterSnapshot;
          return s.running && s.redis.process?.pid && s.brokers.every((b) => b.process.state === 'running') ? s : null;
        }, 30_000, 200);
        const pids = [snap.redis.process!.pid!, ...snap.brokers.map((b) => b.process.pid!)];
        assert.equal(pids.length, 4);
        assert.ok(pids.every(pidAlive));
        const code = await web.stop(signal);
        assert.equal(code, 0, web.output.join('\n'));
        await waitPidsGone(pids, 3000);
        assert.ok(web.output.some((l) => l.includes('cluster stopped')));
      } finally {
        await web.stop('SIGKILL');
        await data.cleanup();
      }
    });
  }
});
