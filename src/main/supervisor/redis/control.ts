import type { ClusterSettings, RedisInfo } from '../../../shared/cluster-api.js';
import { ApiError, invalidState } from '../../api/errors.js';
import { RedisPortTakenError, type ClusterProcesses } from '../processes/cluster-processes.js';
import type { EventLog } from '../event-log.js';
import { locateRedisServer } from './locate.js';
import { pingRedis, waitForRedis } from './probe.js';

const START_TIMEOUT_MS = 10_000;

/**
 * The cluster's Redis: the embedded redis-server (found on PATH or REDIS_SERVER_BIN) or an
 * external URL, and — when neither is possible — the one message that says what to install.
 */
export class RedisControl {
  private problem: string | null = null;
  /** What the running cluster uses; settings changed since apply on the next start only. */
  private inUse: { mode: RedisInfo['mode']; url: string } | null = null;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly procs: ClusterProcesses,
    private readonly events: EventLog,
  ) {}

  /** Looks for redis-server again (after a settings change), so the UI can warn before a start. */
  refreshProblem(settings: ClusterSettings): void {
    if (settings.externalRedisUrl) {
      this.problem = null;
      return;
    }
    const found = locateRedisServer(this.env);
    this.problem = found.found ? null : found.problem;
  }

  /** Starts the embedded server (or checks the external one); returns the URL and whether it answers. */
  async start(settings: ClusterSettings): Promise<{ url: string; reachable: boolean }> {
    const external = settings.externalRedisUrl;
    if (external) {
      this.problem = null;
      const reachable = await pingRedis(external, 1000);
      if (!reachable) this.events.emit('error', `the external Redis at ${external} does not answer yet; brokers will keep trying`);
      this.inUse = { mode: 'external', url: external };
      return { url: external, reachable };
    }
    const path = this.locate();
    const url = await this.procs.startRedis(path);
    const redis = this.procs.redis!;
    if (!(await waitForRedis(url, START_TIMEOUT_MS, () => redis.alive))) {
      const tail = redis.output.snapshot().slice(-5).join(' | ');
      await redis.stop(this.procs.gracePeriodMs);
      throw invalidState(`redis-server did not answer within ${START_TIMEOUT_MS / 1000} s: ${tail || 'no output'}`);
    }
    redis.markReady();
    this.inUse = { mode: 'embedded', url };
    return { url, reachable: true };
  }

  /** Starts the embedded server again on its port (the "start"/"restart" process actions). */
  async restart(): Promise<void> {
    try {
      await this.procs.startRedis(this.locate());
    } catch (err) {
      if (!(err instanceof RedisPortTakenError)) throw err;
      // Moving Redis would strand every running broker on the old URL: say what happened and what fixes it.
      const text = `redis cannot start again: its port ${err.port} was taken by another program while it was down; stop and start the cluster to move Redis and the brokers to free ports`;
      this.events.emit('error', text);
      throw invalidState(text);
    }
  }

  /** The cluster stopped: the next start reads the settings again. */
  stopped(): void {
    this.inUse = null;
  }

  info(settings: ClusterSettings, reachable: boolean): RedisInfo {
    const mode = this.inUse?.mode ?? (settings.externalRedisUrl ? 'external' : 'embedded');
    return {
      mode,
      url: this.inUse?.url ?? settings.externalRedisUrl,
      reachable,
      process: mode === 'embedded' ? (this.procs.redis?.info() ?? null) : null,
      problem: mode === 'embedded' ? this.problem : null,
    };
  }

  private locate(): string {
    const found = locateRedisServer(this.env);
    if (!found.found) {
      this.problem = found.problem;
      this.events.emit('error', found.problem);
      throw new ApiError('REDIS_NOT_FOUND', found.problem);
    }
    this.problem = null;
    return found.path;
  }
}
