import type { FailoverOptions, FailoverTimeline, ProduceRequest } from '../../../shared/cluster-api.js';
import { invalidState } from '../../api/errors.js';
import type { BrokerProcess } from '../processes/cluster-processes.js';
import { DEMO_TOPIC, DemoProducer } from './demo-producer.js';
import type { EventLog } from '../event-log.js';
import { FailoverRun, totalHwm } from './run.js';
import type { ManagedProcess } from '../processes/managed-process.js';
import type { Observation } from '../watch/observation.js';
import { LeaseKeyReader } from './lease-key-reader.js';

export interface FailoverDeps {
  events: EventLog;
  brokers(): ReadonlyMap<string, BrokerProcess>;
  processByName(name: string): ManagedProcess;
  /** Starts a stopped broker again, serialised with the other lifecycle operations. */
  restartBroker(id: string): Promise<void>;
  running(): boolean;
  /** The demo producer's produce: a client that gives up on an unresponsive broker quickly. */
  produce(request: ProduceRequest): Promise<unknown>;
  poke(): void;
  publish(): void;
  /** The cluster's Redis, to read the old lease's end from (null: none to read; the step is then an estimate). */
  redisUrl(): string | null;
}

/**
 * "Simulate failover": checks that there is something to fail over from and to, runs one
 * FailoverRun (with the demo producer if asked), and reports its steps as events.
 */
export class FailoverControl {
  private run: FailoverRun | null = null;
  private demo: DemoProducer | null = null;
  private seq = 0;

  constructor(private readonly deps: FailoverDeps) {}

  get active(): boolean {
    return this.run?.running ?? false;
  }

  current(): FailoverTimeline | null {
    return this.run ? structuredClone(this.run.timeline) : null;
  }

  async start(options: FailoverOptions, lastObs: Observation | null): Promise<FailoverTimeline> {
    const { deps } = this;
    if (!deps.running()) throw invalidState('the cluster is not running: start it first');
    if (this.active) throw invalidState('a failover simulation is already running');
    const view = lastObs?.cluster;
    const leader = view?.leader ? deps.brokers().get(view.leader.id) : undefined;
    if (!lastObs || !view?.leader || !leader?.process.alive || leader.process.currentState === 'paused') {
      throw invalidState('there is no running leader to fail over from yet; wait until one is elected');
    }
    const others = [...deps.brokers().values()].filter((b) => b.id !== leader.id && b.process.alive && b.process.currentState !== 'paused');
    if (others.length === 0) throw invalidState('a failover needs at least one other running broker to take over');

    const lastHealth = lastObs.health.get(leader.id);
    // Opened while the leader is taken down, read right after (lease-key-reader.ts).
    let leaseKey: LeaseKeyReader | null = null;
    const run = new FailoverRun(++this.seq, options, { id: leader.id, epoch: view.epoch }, totalHwm(lastObs, leader.id) ?? 0, {
      lastLeaseReport: lastHealth?.role === 'leader' && lastHealth.leaseMsLeft !== null ? { msLeft: lastHealth.leaseMsLeft, askedAt: lastHealth.askedAt ?? lastObs.at } : null,
      readLease: async () => (leaseKey ? leaseKey.readOnce() : null),
      takeDown: async (id, mode) => {
        const redisUrl = deps.redisUrl();
        leaseKey = redisUrl ? new LeaseKeyReader(redisUrl) : null;
        try {
          const proc = deps.processByName(id);
          if (mode === 'kill') await proc.kill();
          else {
            proc.pause();
            deps.events.emit('process-signal', `${id} paused (SIGSTOP)`, { brokerId: id });
          }
        } catch (err) {
          leaseKey?.close();
          throw err;
        }
      },
      bringBack: async (id, mode) => {
        if (!deps.running()) throw new Error('the cluster was stopped');
        if (mode === 'kill') await deps.restartBroker(id);
        else {
          deps.processByName(id).resume();
          deps.events.emit('process-signal', `${id} resumed (SIGCONT)`, { brokerId: id });
        }
        deps.poke();
      },
      onStep: (timeline, step) => {
        const who = timeline.newLeader && step.step !== 'leader-lost' ? { brokerId: timeline.newLeader.id, epoch: timeline.newLeader.epoch } : {};
        deps.events.emit('failover-step', `failover #${timeline.id}: ${step.step} at +${step.sinceStartMs} ms — ${step.detail}`, who);
        deps.publish();
      },
      onFinish: (timeline) => {
        this.demo?.stop();
        this.demo = null;
        const gap = timeline.gapMs !== null ? `, ${timeline.gapMs} ms without a commit` : '';
        if (timeline.state === 'done') deps.events.emit('info', `failover #${timeline.id} done${gap}`);
        else deps.events.emit('error', `failover #${timeline.id} failed: ${timeline.error}`);
        deps.publish();
      },
    });
    this.run = run;
    if (options.demoProducer) {
      this.demo = new DemoProducer(async (payload, key) => {
        await deps.produce({ topic: DEMO_TOPIC, key, payload });
      });
      this.demo.start();
    }
    deps.events.emit('info', `failover #${run.timeline.id}: taking down ${leader.id} (${options.mode})`, { brokerId: leader.id, epoch: view.epoch });
    await run.begin();
    deps.poke();
    return structuredClone(run.timeline);
  }

  onAck(at: number, sentAt: number): void {
    if (!this.active) return;
    this.run!.onAck(at, sentAt);
    this.deps.poke();
  }

  onObservation(obs: Observation): void {
    this.run?.onObservation(obs);
  }

  /** The cluster is stopping: the run cannot finish. */
  abort(reason: string): void {
    this.run?.fail(reason);
    this.demo?.stop();
    this.demo = null;
  }

  /** After a wipe, or a stop and a new start, the old timeline describes a cluster that no longer runs. */
  forget(reason = 'the data was wiped'): void {
    this.abort(reason);
    this.run = null;
  }
}
