import { expectPositionals } from './args.js';
import type { Command } from './command.js';
import { connectToLeader } from './connect.js';
import { NO_LEADER_HINT } from './failure.js';
import { Output, table } from './io.js';

export const clusterCommand: Command = {
  name: 'cluster',
  summary: 'brokers, leader, epoch and in-sync replicas',
  help: `Usage: yak cluster [--json]

The cluster as its leader sees it (GET /metadata/cluster; any broker if the leader does not
answer): the cluster id, the leader and its epoch, and per broker its URL, role, whether it is
alive and whether it is in the in-sync replica set.

Options:
      --json              the answer as one JSON object`,
  options: {
    json: { type: 'boolean' },
  },
  async run({ values, positionals }, connection, io) {
    expectPositionals('cluster', positionals, []);
    const view = await (await connectToLeader(connection)).cluster();
    const out = new Output(io.stdout);
    if (values['json'] === true) {
      await out.write(`${JSON.stringify(view)}\n`);
      return;
    }
    const leader = view.leader ? `${view.leader.id} (${view.leader.url})` : 'none';
    const inSync = view.brokers.filter((b) => b.in_sync).map((b) => b.id);
    await out.write(`cluster ${view.cluster}  epoch ${view.epoch}  leader ${leader}  in-sync ${inSync.length ? inSync.join(',') : 'none'}\n`);
    const rows = view.brokers.map((b) => [b.id, b.url || '-', b.role, b.alive ? 'yes' : 'no', b.in_sync ? 'yes' : 'no']);
    await out.write(table([['BROKER', 'URL', 'ROLE', 'ALIVE', 'IN_SYNC'], ...rows]));
    // Said beside the table (stderr, exit 0: the answer itself is right) so "leader none" is not a riddle.
    if (!view.leader) io.stderr.write(`yak cluster: no leader yet; ${NO_LEADER_HINT}\n`);
  },
};
