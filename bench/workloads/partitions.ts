import { hasPrlimit } from '../../testkit/broker/process.js';
import { measurePartitions } from '../partitions.js';
import type { Row } from '../types.js';
import type { WorkloadContext } from './context.js';

/** The limit issue 10 asks 10,000 partitions to work under (`ulimit -n`). */
const OPEN_FILE_LIMIT = 1024;
const PER_TOPIC = 3;
const CONCURRENCY = 16;

/**
 * Many partitions (issue 10, item 3), on a 3-broker cluster of its own (bench/partitions.ts), each
 * broker at an open-file limit of 1,024 (prlimit): create the topics, produce one record to every
 * partition and read each back, count the files each broker holds open, and restart a follower
 * after a clean stop and after SIGKILL — to its first /health answer and until the leader counts it
 * in sync — then read every acknowledged record back from it. One round: a figure per run.
 */
export async function partitions(ctx: WorkloadContext): Promise<Row[]> {
  const topics = Math.ceil(ctx.options.manyPartitions / PER_TOPIC);
  const limit = hasPrlimit() ? OPEN_FILE_LIMIT : undefined;
  if (limit === undefined) ctx.log('prlimit(1) not on PATH: the partitions cluster runs without an open-file limit');
  const f = await measurePartitions({ topics, partitionsPerTopic: PER_TOPIC, brokers: 3, maxOpenFiles: limit, concurrency: CONCURRENCY, idleSeconds: ctx.options.idleSeconds }, (line) => ctx.log(line));
  const n = f.partitions.toLocaleString('en');
  const refused = Object.entries(f.createStatuses).filter(([k]) => k !== '201');
  const filesTarget = (v: number): Row['target'] => (limit ? { text: `< ${limit.toLocaleString('en')} (limit)`, met: v < limit } : undefined);
  const row = (id: string, figure: string, unit: string, yak: number, extra: Partial<Row> = {}): Row => ({ id: `partitions.${id}`, figure, unit, yak, comparison: null, ratio: null, ...extra });
  return [
    row('create_s', `create ${n} partitions (${topics.toLocaleString('en')} topics × ${PER_TOPIC}, ${CONCURRENCY} in flight)`, 's', f.createSeconds, {
      target: { text: 'every one 201', met: refused.length === 0 },
      ...(refused.length && { notes: `answers: ${JSON.stringify(f.createStatuses)}` }),
    }),
    row('produce_records_per_s', `produce the first record into each of ${n} partitions`, 'records/s', f.producePerS),
    row('consume_records_per_s', `read each back (GET /consume, max 1)`, 'records/s', f.consumePerS),
    row('open_files_leader', `open files, leader, after produce/consume`, 'files', f.openFilesLeader, { ...(filesTarget(f.openFilesLeader) && { target: filesTarget(f.openFilesLeader) }) }),
    row('open_files_follower', `open files, followers (most), same time`, 'files', f.openFilesFollowerMax, { ...(filesTarget(f.openFilesFollowerMax) && { target: filesTarget(f.openFilesFollowerMax) }) }),
    row('idle_cpu_leader_percent', `idle CPU of the leader holding ${n} partitions`, '% core', f.idleCpuLeaderPercent, { notes: `all brokers: ${f.idleCpuPercent.join(', ')}` }),
    row('restart_clean_s', `restart after a clean stop (to /health)`, 's', f.restartCleanSeconds),
    row('restart_clean_in_sync_s', `restart after a clean stop (to in sync)`, 's', f.restartCleanInSyncSeconds),
    row('restart_sigkill_s', `restart after SIGKILL (to /health)`, 's', f.restartKilledSeconds),
    row('restart_sigkill_in_sync_s', `restart after SIGKILL (to in sync)`, 's', f.restartKilledInSyncSeconds),
    row('open_files_restarted', `open files, restarted follower, in sync`, 'files', f.openFilesRestarted, { ...(filesTarget(f.openFilesRestarted) && { target: filesTarget(f.openFilesRestarted) }) }),
    row('read_back_after_restarts', `acknowledged records read back from it`, 'records', f.readBack, {
      comparison: { label: 'acknowledged', value: f.acknowledged },
      ratio: f.acknowledged ? f.readBack / f.acknowledged : null,
      target: { text: 'all', met: f.readBack === f.acknowledged },
    }),
  ];
}
