import type { ClusterSnapshot } from '../../src/shared/cluster-api.js';
import { Supervisor } from '../../src/main/supervisor/index.js';
import { tempDataDir, waitPidsGone } from './desktop.js';
import { waitFor } from '../../testkit/wait.js';

/** The desktop supervisor running a real cluster in a temp folder, for tests of its API. */
export interface DesktopCluster {
  sup: Supervisor;
  /** The snapshot in which every broker was reachable and in sync with one leader. */
  snap: ClusterSnapshot;
  /** Shut the supervisor down, make sure its processes are gone, delete the folder. */
  stop(): Promise<void>;
}

/** Start `brokerCount` brokers under a fresh Supervisor and wait until all are in sync under one leader. */
export async function startDesktopCluster(brokerCount: number): Promise<DesktopCluster> {
  const data = await tempDataDir();
  const sup = await Supervisor.create({ dataDir: data.dir, stopGraceMs: 3000 });
  await sup.updateSettings({ brokerCount });
  await sup.startCluster();
  let snap: ClusterSnapshot | undefined;
  await waitFor(`${brokerCount} brokers in sync, one leader`, async () => {
    snap = await sup.getSnapshot();
    return snap.brokers.every((b) => b.reachable && b.inSync) && snap.brokers.filter((b) => b.role === 'leader').length === 1;
  }, 30_000, 200);
  return {
    sup,
    snap: snap!,
    async stop() {
      const pids = sup.livePids();
      await sup.shutdown();
      await waitPidsGone(pids).catch(() => sup.killAllNow());
      await data.cleanup();
    },
  };
}
